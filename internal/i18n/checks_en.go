package i18n

// enChecks is the English catalogue of the checks made on what users give: editions, imports, media.
var enChecks = map[string]string{}
