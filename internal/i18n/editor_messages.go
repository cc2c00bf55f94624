package i18n

// EditorMessages returns the editor's catalogue in lang (Default when lang
// is not supported), for the visual editor's script, which receives every
// string it shows in the page's data rather than holding words of its own.
func EditorMessages(lang string) map[string]string {
	src := frEditor
	if New(lang).Lang() == "en" {
		src = enEditor
	}
	out := make(map[string]string, len(src))
	for k, v := range src {
		out[k] = v
	}
	return out
}
