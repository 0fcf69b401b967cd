"""scaleup's local web app and HTTP API (`scaleup serve`): pages and /api/v1/ over the same engine
functions the command line calls. Nothing here decides, computes an amount or words a decision: the
engine does, and its templates word it; this package only reads uploads, calls the engine, and lays
the results out."""
