package i18n

// frChecks is the French catalogue of the checks made on what users give: editions, imports, media.
var frChecks = map[string]string{}
