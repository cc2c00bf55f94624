package i18n

// enLogin is the English catalogue of signing in to the console and changing a password.
var enLogin = map[string]string{
	"login.retry.one":   "Too many attempts. Try again in %s minute.",
	"login.retry.other": "Too many attempts. Try again in %s minutes.",
}
