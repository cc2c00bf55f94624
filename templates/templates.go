// Package templates holds the default layouts of an edition, embedded in
// the binary. The files beside this one are the source of truth: the daemon
// reads a templates/ folder from disk at run time (so staff can edit the
// layout without rebuilding) and falls back on these embedded copies for any
// file that folder lacks. See README.md for what a template can use.
package templates

import "embed"

// FS holds edition.html.tmpl (the HTML e-mail) and edition.txt.tmpl (the
// plain-text part).
//
//go:embed edition.html.tmpl edition.txt.tmpl
var FS embed.FS
