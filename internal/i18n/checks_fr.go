package i18n

// frChecks is the French catalogue of the checks made on what users give: editions, imports, media.
var frChecks = map[string]string{
	"import.suppressed_rows":       "Lignes laissées exclues",
	"import.more_suppressed.one":   "… et %s autre ligne laissée exclue",
	"import.more_suppressed.other": "… et %s autres lignes laissées exclues",
}
