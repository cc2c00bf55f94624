package render

import (
	"fmt"
	"image"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"bulletin/internal/edition"
)

// Limits the checks hold an edition to.
const (
	// MaxHTMLBytes is where Gmail clips a message ("[Message tronqué]"),
	// hiding the rest, the unsubscribe link included.
	MaxHTMLBytes = 102 * 1024
	// MaxSubjectRunes is about what a phone shows of a subject line.
	MaxSubjectRunes = 80
	// MaxImageBytes is the size past which an image is slow on a phone.
	MaxImageBytes = 1 << 20
	// MaxImageSide and MaxImagePixels bound a local image's dimensions: a
	// small file can hold a huge image (a 20000×20000 PNG of one colour
	// weighs a few KB) that mail clients and phones must decode whole.
	// Ten times the column is room enough for any screen.
	MaxImageSide   = 10000
	MaxImagePixels = 40_000_000
)

// Severity says whether a finding blocks a campaign.
type Severity uint8

// The severities. An Error blocks sending; a Warning is shown.
const (
	Error Severity = iota + 1
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return fmt.Sprintf("Severity(%d)", uint8(s))
}

// Finding is one problem found by Check.
type Finding struct {
	Severity Severity
	// Where is "file:line" in the edition, or the layout's file.
	Where   string
	Message string
}

// String returns "where: severity: message".
func (f Finding) String() string {
	return f.Where + ": " + f.Severity.String() + ": " + f.Message
}

// HasErrors reports whether any finding blocks sending.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// sampleRecipient is a longer than usual recipient, so that the size check
// errs on the safe side.
func sampleRecipient() Recipient {
	return Recipient{
		Email:          "marie-christine.de-la-fontaine@exemple-collectivite.fr",
		FirstName:      "Marie-Christine",
		LastName:       "de La Fontaine-Dupré",
		Organisation:   "Communauté d’agglomération Hérault-Méditerranée",
		UnsubscribeURL: "https://lettre.example.org/u/" + strings.Repeat("0123456789abcdef", 6),
		WebViewURL:     "https://lettre.example.org/v/" + strings.Repeat("0123456789abcdef", 6),
	}
}

// Check renders ed with t and reports what would keep it from reading well
// or being delivered whole: template errors, images without alt text or not
// reachable from a reader's mail client, links that are not http(s) or
// mailto, a long subject, HTML past Gmail's clipping size. Findings come in
// document order; errors block a campaign (HasErrors), warnings are shown.
func Check(t *Templates, ed *edition.Edition) []Finding {
	var fs []Finding
	add := func(s Severity, where, format string, args ...any) {
		fs = append(fs, Finding{Severity: s, Where: where, Message: fmt.Sprintf(format, args...)})
	}
	if n := utf8.RuneCountInString(ed.Subject); n > MaxSubjectRunes {
		add(Warning, ed.FieldWhere("subject"), "subject is %d characters long; phones show about %d", n, MaxSubjectRunes)
	}
	if strings.TrimSpace(ed.Preheader) == "" {
		add(Warning, ed.FieldWhere("preheader"), "no preheader: mail clients will show the first words of the layout as the preview")
	}

	p, err := t.Prepare(ed)
	if err != nil {
		where, msg := splitWhere(err.Error())
		if where == "" {
			where, msg = t.htmlSource, strings.TrimPrefix(msg, t.htmlSource+": ")
		}
		add(Error, where, "template: %s", msg)
		return fs
	}

	publicWarned := false
	for _, r := range p.refs {
		switch r.kind {
		case refRawHTML:
			add(Warning, r.where, "raw HTML is not rendered: write it in Markdown or with a block")
		case refLink:
			if r.url == "" {
				add(Error, r.where, "link without a target")
			} else if !linkOK(r.url) {
				add(Error, r.where, "link %q: only http(s):// and mailto: links work in a mail client", r.url)
			}
		case refImage:
			if strings.TrimSpace(r.alt) == "" {
				add(Error, r.where, "image %q has no alt text: it is what readers see while images are blocked, and what screen readers read", r.url)
			}
			checkImage(t.opts, r, add, &publicWarned)
		}
	}
	if p.imgsNoAlt > 0 {
		add(Error, p.sources[0], "%d image(s) of the layout have no alt attribute", p.imgsNoAlt)
	}
	for _, href := range p.badLayoutLinks {
		if !isEditionLink(p.refs, href) {
			add(Error, p.sources[0], "link %q: only http(s):// and mailto: links work in a mail client", href)
		}
	}

	if n := len(p.AppendHTML(nil, sampleRecipient())); n > MaxHTMLBytes {
		add(Error, ed.Path, "the HTML is %d KB: Gmail clips messages over %d KB, hiding the rest and the unsubscribe link; shorten the edition", kb(n), MaxHTMLBytes/1024)
	} else if n > MaxHTMLBytes*9/10 {
		add(Warning, ed.Path, "the HTML is %d KB, close to the %d KB past which Gmail clips messages", kb(n), MaxHTMLBytes/1024)
	}
	return fs
}

func kb(n int) int { return (n + 1023) / 1024 }

// checkImage reports images that readers' mail clients cannot load.
func checkImage(o Options, r ref, add func(Severity, string, string, ...any), publicWarned *bool) {
	src := strings.TrimSpace(r.url)
	switch {
	case src == "":
		add(Error, r.where, "image without a source")
		return
	case edition.IsLocal(src):
		if _, err := edition.CleanLocal(src); err != nil {
			add(Error, r.where, "image %v", err)
			return
		}
		st, err := os.Stat(r.local)
		if err != nil || r.local == "" {
			add(Error, r.where, "image %q: no such file next to the edition", src)
			return
		}
		if st.Size() > MaxImageBytes {
			add(Warning, r.where, "image %q is %d KB; over %d KB is slow to load on a phone", src, kb(int(st.Size())), MaxImageBytes/1024)
		}
		if err := checkDimensions(r.local); err != nil {
			add(Error, r.where, "image %q %v", src, err)
			return
		}
		if o.PublicURL == "" {
			add(Error, r.where, "image %q is a file next to the edition but no public URL is set, so readers cannot load it: set the public URL the daemon is reached at", src)
			return
		}
		if !*publicWarned && !publicHost(o.PublicURL) {
			*publicWarned = true
			add(Warning, r.where, "images are served from %s, which readers outside this network cannot reach", o.PublicURL)
		}
		return
	}
	u, err := url.Parse(src)
	switch {
	case err != nil:
		add(Error, r.where, "image %q: %v", src, err)
	case u.Scheme == "data":
		add(Error, r.where, "image %.40q…: images embedded as data: are blocked by Gmail and Outlook; put the file next to the edition", src)
	case u.Scheme == "" || u.Host == "":
		add(Error, r.where, "image %q is not reachable from a mail client: give a full https:// URL or a file next to the edition", src)
	case u.Scheme == "http":
		add(Warning, r.where, "image %q is served over plain http; some clients block it: prefer https", src)
	case u.Scheme != "https":
		add(Error, r.where, "image %q: only https:// images load in mail clients", src)
	case !publicHost(src):
		add(Warning, r.where, "image %q is on a host readers outside this network cannot reach", src)
	}
}

// checkDimensions reads the width and height of a local image from its
// header and refuses what mail clients cannot show (a format other than
// PNG, JPEG or GIF) or should not have to decode (past MaxImageSide or
// MaxImagePixels).
func checkDimensions(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return fmt.Errorf("is not a PNG, JPEG or GIF image that can be read (%v): mail clients show these three formats; save it as PNG or JPEG", err)
	}
	if w, h := cfg.Width, cfg.Height; w > MaxImageSide || h > MaxImageSide || int64(w)*int64(h) > MaxImagePixels {
		return fmt.Errorf("is %d×%d pixels: over %d pixels a side or %d megapixels, phones and mail clients struggle to show it; resize it (1200 pixels wide is plenty)", w, h, MaxImageSide, MaxImagePixels/1_000_000)
	}
	return nil
}

// linkOK reports whether a link target can be followed from a mail client.
func linkOK(href string) bool {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "mailto":
		return u.Opaque != "" || u.RawQuery != ""
	}
	return false
}

func isEditionLink(refs []ref, href string) bool {
	for _, r := range refs {
		if r.kind == refLink && r.url == href {
			return true
		}
	}
	return false
}

// publicHost reports whether a URL's host looks reachable from the
// internet: not localhost, not a private or loopback address, not a name
// without a dot.
func publicHost(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); ip != nil {
		return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified())
	}
	return strings.Contains(h, ".") && !strings.HasSuffix(h, ".localhost") && !strings.HasSuffix(h, ".local")
}

var whereRe = regexp.MustCompile(`^(\S+?(?::\d+)+): (.*)$`)

// splitWhere splits "file:line[:col]: message" into its place and message.
func splitWhere(s string) (where, msg string) {
	if m := whereRe.FindStringSubmatch(s); m != nil {
		return m[1], m[2]
	}
	return "", s
}
