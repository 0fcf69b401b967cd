"""Binding shared rule records to one policy: each record names the provision it implements, and the
policy's provision table (policies/<id>/provisions.yaml) gives that provision's clause and quote in
this instrument. A family whose provisions the policy binds none of is not provided by it (its
decisions are not_applicable, 本政策未规定); a family it provides must have every provision bound, so
no explanation cites a clause the instrument does not have or leaves one uncited."""
from __future__ import annotations

from engine.policy import Policy
from engine.provisions import PROVISIONS_FILE
from engine.rules_model import Family, RuleRecord


def bound(record, policy: Policy):
    """The record with its clause and text from the policy's binding; None if the policy lacks it."""
    if record.provision is None:
        return record
    binding = policy.provisions.get(record.provision)
    if binding is None:
        return None
    return record.model_copy(update={"clause": binding.clause, "text": binding.text})


def bind_family(fam: Family, policy: Policy, problems: list[str]) -> None:
    """Fill every record of the family from the policy's bindings, or mark the family not provided."""
    spec = fam.spec
    where = f"{policy.folder / PROVISIONS_FILE}"
    conclusion = bound(spec.conclusion, policy)
    rules = {r.id: bound(r, policy) for r in fam.rules}
    if conclusion is None:
        has_some = [r.provision for r in fam.rules if r.provision and rules[r.id] is not None]
        if has_some:
            problems.append(f"{where}: binds {', '.join(sorted(set(has_some)))} of family {fam.name} but not its "
                            f"conclusion's provision {spec.conclusion.provision!r}: bind it, or remove the others "
                            "if this instrument does not provide that family")
        fam.provided = False
        return
    for rid, rule in rules.items():
        original = next(r for r in fam.rules if r.id == rid)
        if rule is None and original.kind == "amount":
            fam.not_offered.append(original)     # an amount the instrument does not state is not offered
        elif rule is None:
            problems.append(f"{where}: family {fam.name} is provided but provision {original.provision!r} "
                            f"(rule {rid}) is not bound: add it with its clause and quoted text")
    amount = spec.amount
    if amount is not None and amount.provision is not None:
        amount_binding = policy.provisions.get(amount.provision)
        amount = amount.model_copy(update={"clause": amount_binding.clause if amount_binding else conclusion.clause})
    new_rules = [rules[r.id] for r in fam.rules if rules[r.id] is not None]
    fam.spec = spec.model_copy(update={"conclusion": conclusion, "amount": amount, "rules": new_rules})
    fam.rules = list(new_rules)


def bind_not_modelled(records: list[RuleRecord], policy: Policy) -> list[RuleRecord]:
    """The provisions not modelled that this instrument has (the others are not part of it)."""
    return [b for b in (bound(r, policy) for r in records) if b is not None]
