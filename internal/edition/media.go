package edition

import (
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"bulletin/internal/i18n"
)

// IsLocal reports whether an image or link target names a file next to the
// edition ("infographie.png", "images/photo.jpg") rather than a URL: no
// scheme, no host, not rooted.
func IsLocal(ref string) bool {
	if ref == "" || strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, `\`) {
		return false
	}
	u, err := url.Parse(ref)
	if err != nil {
		return false
	}
	return u.Scheme == "" && u.Host == ""
}

// CleanLocal returns the slash-separated path of a local reference inside the
// edition's folder ("./images/a.png" gives "images/a.png"), or an error if it
// would leave the folder, so that the daemon never serves files outside it.
func CleanLocal(ref string) (string, error) {
	if !IsLocal(ref) {
		return "", i18n.Errorf("edition.err.media_not_local", ref)
	}
	if u, err := url.Parse(ref); err == nil && u.Path != "" {
		ref = u.Path // undo %20 and the like
	}
	p := path.Clean(strings.ReplaceAll(ref, `\`, "/"))
	if p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return "", i18n.Errorf("edition.err.media_leaves", ref)
	}
	return p, nil
}

// LocalPath returns the file on disk for a local reference.
func (ed *Edition) LocalPath(ref string) (string, error) {
	p, err := CleanLocal(ref)
	if err != nil {
		return "", err
	}
	return filepath.Join(ed.Dir, filepath.FromSlash(p)), nil
}
