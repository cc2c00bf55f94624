package render

import (
	"fmt"
	"image"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"bulletin/internal/edition"
	"bulletin/internal/i18n"
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
	Where string
	// Message says what is wrong: the console shows it in the reader's
	// language, the CLI in English (String).
	Message i18n.Message
}

// String returns "where: severity: message", in English.
func (f Finding) String() string {
	return f.Where + ": " + f.Severity.String() + ": " + f.Message.String()
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
	add := func(s Severity, where, key string, args ...any) {
		fs = append(fs, Finding{Severity: s, Where: where, Message: i18n.M(key, args...)})
	}
	if n := utf8.RuneCountInString(ed.Subject); n > MaxSubjectRunes {
		add(Warning, ed.FieldWhere("subject"), "check.subject_long", n, MaxSubjectRunes)
	}
	if strings.TrimSpace(ed.Preheader) == "" {
		add(Warning, ed.FieldWhere("preheader"), "check.no_preheader")
	}

	p, err := t.Prepare(ed)
	if err != nil {
		where, msg := splitWhere(err.Error())
		if where == "" {
			where, msg = t.htmlSource, strings.TrimPrefix(msg, t.htmlSource+": ")
		}
		add(Error, where, "check.template", msg)
		return fs
	}

	publicWarned := false
	for _, r := range p.refs {
		switch r.kind {
		case refRawHTML:
			add(Warning, r.where, "check.raw_html")
		case refLink:
			if r.url == "" {
				add(Error, r.where, "check.link_empty")
			} else if !linkOK(r.url) {
				add(Error, r.where, "check.link_scheme", strconv.Quote(r.url))
			}
		case refImage:
			if strings.TrimSpace(r.alt) == "" {
				add(Error, r.where, "check.image_no_alt", strconv.Quote(r.url))
			}
			checkImage(t.opts, r, add, &publicWarned)
		}
	}
	if p.imgsNoAlt > 0 {
		add(Error, p.sources[0], "check.layout_no_alt", p.imgsNoAlt)
	}
	for _, href := range p.badLayoutLinks {
		if !isEditionLink(p.refs, href) {
			add(Error, p.sources[0], "check.link_scheme", strconv.Quote(href))
		}
	}

	if n := len(p.AppendHTML(nil, sampleRecipient())); n > MaxHTMLBytes {
		add(Error, ed.Path, "check.html_clipped", kb(n), MaxHTMLBytes/1024)
	} else if n > MaxHTMLBytes*9/10 {
		add(Warning, ed.Path, "check.html_near_clip", kb(n), MaxHTMLBytes/1024)
	}
	return fs
}

func kb(n int) int { return (n + 1023) / 1024 }

// checkImage reports images that readers' mail clients cannot load.
func checkImage(o Options, r ref, add func(Severity, string, string, ...any), publicWarned *bool) {
	src := strings.TrimSpace(r.url)
	q := strconv.Quote(src)
	switch {
	case src == "":
		add(Error, r.where, "check.image_no_src")
		return
	case edition.IsLocal(src):
		if _, err := edition.CleanLocal(src); err != nil {
			add(Error, r.where, "check.image_bad_path", i18n.MessageOf(err))
			return
		}
		st, err := os.Stat(r.local)
		if err != nil || r.local == "" {
			add(Error, r.where, "check.image_missing", q)
			return
		}
		if st.Size() > MaxImageBytes {
			add(Warning, r.where, "check.image_heavy", q, strconv.Itoa(kb(int(st.Size()))), strconv.Itoa(MaxImageBytes/1024))
		}
		if msg := checkDimensions(r.local); !msg.IsZero() {
			add(Error, r.where, "check.image_unusable", q, msg)
			return
		}
		if o.PublicURL == "" {
			add(Error, r.where, "check.image_no_public_url", q)
			return
		}
		if !*publicWarned && !publicHost(o.PublicURL) {
			*publicWarned = true
			add(Warning, r.where, "check.images_private", o.PublicURL)
		}
		return
	}
	u, err := url.Parse(src)
	switch {
	case err != nil:
		add(Error, r.where, "check.image_bad_url", q, i18n.Text(err.Error()))
	case u.Scheme == "data":
		add(Error, r.where, "check.image_data", fmt.Sprintf("%.40q…", src))
	case u.Scheme == "" || u.Host == "":
		add(Error, r.where, "check.image_relative", q)
	case u.Scheme == "http":
		add(Warning, r.where, "check.image_http", q)
	case u.Scheme != "https":
		add(Error, r.where, "check.image_scheme", q)
	case !publicHost(src):
		add(Warning, r.where, "check.image_private_host", q)
	}
}

// checkDimensions reads the width and height of a local image from its
// header and refuses what mail clients cannot show (a format other than
// PNG, JPEG or GIF) or should not have to decode (past MaxImageSide or
// MaxImagePixels).
func checkDimensions(file string) i18n.Message {
	f, err := os.Open(file)
	if err != nil {
		return i18n.Text(err.Error())
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return i18n.M("check.image_format", i18n.Text(err.Error()))
	}
	if w, h := cfg.Width, cfg.Height; w > MaxImageSide || h > MaxImageSide || int64(w)*int64(h) > MaxImagePixels {
		// Sizes go as text: "20000×20000", as image editors write them.
		return i18n.M("check.image_huge", strconv.Itoa(w), strconv.Itoa(h), strconv.Itoa(MaxImageSide), MaxImagePixels/1_000_000)
	}
	return i18n.Message{}
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
