// The only script: a filter applies as soon as it is chosen (the 筛选 button does the same without script).
document.querySelectorAll("form.filters select").forEach(function (s) {
  s.addEventListener("change", function () { s.form.submit(); });
});
