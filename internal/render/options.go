package render

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Options is what the layout needs to know about the organisation that
// sends the newsletter. The daemon fills it from config.yaml; every field has
// a usable zero value except Organisation.
type Options struct {
	// Organisation is the sender's full name, shown in the header, the
	// footer and the copyright line.
	Organisation string
	// Address is the postal address, one line per element. Anti-spam law
	// (and Gmail's bulk-sender rules) want it in every campaign.
	Address []string
	// Website is the organisation's site, linked from the footer.
	Website string
	// LogoURL is an absolute URL of the logo shown in the header; empty
	// shows the organisation's name instead.
	LogoURL string
	// LogoWidth is the logo's display width in pixels (default 180).
	LogoWidth int
	// Colors are the layout's colours.
	Colors Colors
	// Social are the social network links shown in the header and footer.
	Social []Link
	// PublicURL is the public base URL of the daemon ("https://lettre.
	// example.org"); images next to an edition are served under
	// PublicURL/media/<slug>/.
	PublicURL string
	// Lang is the language of the message, for lang="…" (default "fr").
	Lang string
}

// Link is a named link, such as a social network page.
type Link struct {
	Name string
	URL  string
}

// Colors are the layout's colours, as #rrggbb. The defaults are chosen to
// read in both light and dark mode: a mid-dark primary that keeps white text
// legible when a client inverts the background, and no pure black on pure
// white.
type Colors struct {
	// Primary fills the header and footer and colours headings.
	Primary string
	// Accent marks kickers, timeline dates and the notice box.
	Accent string
	// Background is the colour around the 600 px column.
	Background string
	// Text is the body text colour.
	Text string
}

// DefaultColors returns the colours used for any empty field of Colors.
func DefaultColors() Colors {
	// Accent is #b34d17, not the lighter #d9672b of the SendinBlue layout:
	// accent text is small and bold (kickers, notice titles), and WCAG AA
	// asks 4.5:1 on white and on the notice's tint (5.3 and 4.7 here).
	return Colors{
		Primary:    "#0f5c6e",
		Accent:     "#b34d17",
		Background: "#eef2f4",
		Text:       "#2b3138",
	}
}

var hexColor = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// withDefaults returns o with defaults filled in, or an error naming the
// first bad field.
func (o Options) withDefaults() (Options, error) {
	if o.Lang == "" {
		o.Lang = "fr"
	}
	if o.LogoWidth == 0 {
		o.LogoWidth = 180
	}
	if o.LogoWidth < 0 || o.LogoWidth > 600 {
		return o, fmt.Errorf("render: logo width %d: want 1 to 600 pixels", o.LogoWidth)
	}
	def := DefaultColors()
	for _, c := range []struct {
		name string
		v    *string
		def  string
	}{
		{"primary", &o.Colors.Primary, def.Primary},
		{"accent", &o.Colors.Accent, def.Accent},
		{"background", &o.Colors.Background, def.Background},
		{"text", &o.Colors.Text, def.Text},
	} {
		if *c.v == "" {
			*c.v = c.def
		}
		if !hexColor.MatchString(*c.v) {
			return o, fmt.Errorf("render: colour %s %q: want #rrggbb", c.name, *c.v)
		}
	}
	for _, u := range []struct{ name, v string }{{"website", o.Website}, {"logo URL", o.LogoURL}, {"public URL", o.PublicURL}} {
		if u.v != "" && !isWebURL(u.v) {
			return o, fmt.Errorf("render: %s %q: want an absolute http(s) URL", u.name, u.v)
		}
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	// Copy the slices so that the caller changing its config later cannot
	// change a Templates in use.
	o.Address = append([]string(nil), o.Address...)
	o.Social = append([]Link(nil), o.Social...)
	for _, l := range o.Social {
		if l.Name == "" || !isWebURL(l.URL) {
			return o, fmt.Errorf("render: social link %q %q: want a name and an http(s) URL", l.Name, l.URL)
		}
	}
	return o, nil
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
