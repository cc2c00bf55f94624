package i18n

// frOps is the French catalogue of accessibility labels and first-run messages of the pages.
var frOps = map[string]string{}
