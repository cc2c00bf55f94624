package i18n

// enChecks is the English catalogue of the checks made on what users give: editions, imports, media.
var enChecks = map[string]string{
	"import.suppressed_rows":       "Lines left suppressed",
	"import.more_suppressed.one":   "… and %s more line left suppressed",
	"import.more_suppressed.other": "… and %s more lines left suppressed",
}
