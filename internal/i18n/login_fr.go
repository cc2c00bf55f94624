package i18n

// frLogin is the French catalogue of signing in to the console and changing a password.
var frLogin = map[string]string{
	"login.retry.one":   "Trop de tentatives. Réessayez dans %s\u00a0minute.",
	"login.retry.other": "Trop de tentatives. Réessayez dans %s\u00a0minutes.",
}
