package render

import (
	"net/url"
	"strings"

	"bulletin/internal/edition"
)

// MediaPrefix is the public URL path under which the daemon serves the
// images that sit next to an edition file.
const MediaPrefix = "/media/"

// MediaPath returns the URL path of a file next to an edition:
// MediaPath("2020-edition-10-ans", "images/logo.png") is
// "/media/2020-edition-10-ans/images/logo.png". file is slash-separated and
// relative to the edition's folder (see edition.CleanLocal); each segment is
// escaped.
func MediaPath(slug, file string) string {
	var b strings.Builder
	b.WriteString(MediaPrefix)
	b.WriteString(url.PathEscape(slug))
	for _, seg := range strings.Split(file, "/") {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(seg))
	}
	return b.String()
}

// MediaURL returns the absolute URL readers load a file next to an edition
// from: publicURL followed by MediaPath. With no public URL it is just the
// path, which works in the daemon's own web view but not in a mail client
// (Check says so).
func MediaURL(publicURL, slug, file string) string {
	return strings.TrimRight(publicURL, "/") + MediaPath(slug, file)
}

// ParseMediaPath splits a URL path served under MediaPrefix into the
// edition's slug and the file's slash-separated path inside the edition's
// folder, refusing anything that would leave that folder. It is the inverse
// of MediaPath, for the daemon's /media/ handler.
func ParseMediaPath(p string) (slug, file string, ok bool) {
	rest, found := strings.CutPrefix(p, MediaPrefix)
	if !found {
		return "", "", false
	}
	slug, file, found = strings.Cut(rest, "/")
	if !found || slug == "" || edition.Slugify(slug) != slug {
		return "", "", false
	}
	file, err := edition.CleanLocal(file)
	if err != nil {
		return "", "", false
	}
	return slug, file, true
}
