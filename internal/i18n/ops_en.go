package i18n

// enOps is the English catalogue of accessibility labels and first-run messages of the pages.
var enOps = map[string]string{}
