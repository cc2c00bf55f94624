package address

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"jean.dupont@example.org", "jean.dupont@example.org"},
		{"Jean.Dupont@Example.ORG", "Jean.Dupont@example.org"}, // local part keeps its case
		{"  jean@example.org\t", "jean@example.org"},
		{"\u00a0jean@example.org\u00a0", "jean@example.org"}, // NBSP from a spreadsheet
		{"\u200bjean@example.org\ufeff", "jean@example.org"}, // zero-width space, BOM
		{"\u202fjean@example.org\r\n", "jean@example.org"},   // narrow NBSP, CRLF
		{"<jean@example.org>", "jean@example.org"},           // angle brackets around all of it
		{" < jean@example.org > ", "jean@example.org"},       // and spaces inside them
		{"mailto:jean@example.org", "jean@example.org"},      // a pasted link
		{"MAILTO:jean@example.org", "jean@example.org"},      // any case
		{"<mailto:jean@example.org>", "jean@example.org"},    // RFC 2369 style
		{"mailto:<jean@example.org>", "jean@example.org"},    // the other nesting
		{"jean@exämple.fr", "jean@xn--exmple-cua.fr"},        // IDNA
		{"jean@EXÄMPLE.fr", "jean@xn--exmple-cua.fr"},        // upper-case IDN
		{"jean@xn--exmple-cua.fr", "jean@xn--exmple-cua.fr"}, // already ASCII
		{"jean@ｅｘａｍｐｌｅ.org", "jean@example.org"},             // full-width letters map
		{"jean@bücher。de", "jean@xn--bcher-kva.de"},          // ideographic full stop is a dot
		{"o'neil@example.org", "o'neil@example.org"},         // apostrophe is atext
		{"a+tag@example.org", "a+tag@example.org"},           // sub-addressing
		{"!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~@example.org"},
		{"x@a.b.c.example.org", "x@a.b.c.example.org"},
		{"x@my-domain.example.org", "x@my-domain.example.org"},
		{"x@123.example.org", "x@123.example.org"},                 // numeric labels below the TLD
		{`"jean"@example.org`, "jean@example.org"},                 // needless quotes go
		{`"jean.dupont"@example.org`, "jean.dupont@example.org"},   // still a dot-atom
		{`"jean dupont"@example.org`, `"jean dupont"@example.org`}, // quotes needed
		{`"a@b"@example.org`, `"a@b"@example.org`},                 // @ inside quotes
		{`"a\"b"@example.org`, `"a\"b"@example.org`},               // escaped quote kept escaped
		{`"a\bc"@example.org`, "abc@example.org"},                  // needless escape goes
		{`"a..b"@example.org`, `"a..b"@example.org`},               // not a dot-atom: stays quoted
		{strings.Repeat("a", 64) + "@example.org", strings.Repeat("a", 64) + "@example.org"},
		{"x@" + strings.Repeat("a", 63) + ".org", "x@" + strings.Repeat("a", 63) + ".org"},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeErrors(t *testing.T) {
	t.Parallel()
	long253 := strings.Repeat(strings.Repeat("a", 62)+".", 4) + "org" // 255 octets
	tests := []struct {
		in, reason string
	}{
		{"", "empty address"},
		{"   ", "empty address"},
		{"<>", "empty address"},
		{"mailto:", "empty address"},
		{"jean.example.org", "missing @"},
		{"jean@@example.org", "more than one @"},
		{"jean@x@example.org", "more than one @"},
		{"a@example.org; b@example.org", "several addresses in one field"},
		{"a@example.org,b@example.org", "several addresses in one field"},
		{"Jean Dupont <jean@example.org>", "angle brackets inside the address (a display name? give the address alone)"},
		{"jean dupont@example.org", "space in local part"},
		{"jean\u00a0dupont@example.org", "space in local part"},
		{"jean\tdupont@example.org", "space in local part"},
		{"@example.org", "empty local part"},
		{".jean@example.org", "local part starts with a dot"},
		{"jean.@example.org", "local part ends with a dot"},
		{"jean..dupont@example.org", "two dots in a row in local part"},
		{"jean,dupont@example.org", "character ',' not allowed in local part"},
		{"jean(x)@example.org", "character '(' not allowed in local part"},
		{"jean\x00@example.org", "character '\\x00' not allowed in local part"},
		{"jé@example.org", "non-ASCII character 'é' in local part (internationalised local parts are not supported)"},
		{"je\xffan@example.org", "invalid UTF-8 in local part"},
		{`je"an@example.org`, "quote in local part (only a whole local part may be quoted)"},
		{strings.Repeat("a", 65) + "@example.org", "local part is 65 octets, more than 64"},
		{`"jean@example.org`, "unterminated quoted local part"},
		{`"jean"`, "missing @"},
		{`"jean"x@example.org`, "text between the quoted local part and the @"},
		{`"a"@b@example.org`, "more than one @"},
		{`""@example.org`, "empty local part"},
		{`"a\`, "invalid escape in quoted local part"},
		{"\"a\x01\"@example.org", "control character '\\x01' in quoted local part"},
		{`"é"@example.org`, "non-ASCII character in local part (internationalised local parts are not supported)"},
		{"jean@", "empty domain"},
		{"jean@localhost", "domain has no dot"},
		{"jean@example.org.", "domain ends with a dot"},
		{"jean@.example.org", "domain starts with a dot"},
		{"jean@example..org", "two dots in a row in domain"},
		{"jean@exa mple.org", "space in domain"},
		{"jean@example.org\u00a0x", "space in domain"},
		{"jean@ex_ample.org", "character '_' not allowed in domain"},
		{"jean@example.org?subject=x", "character '?' not allowed in domain"},
		{"jean@example.org>", "angle brackets inside the address (a display name? give the address alone)"},
		{"jean@[192.0.2.1]", "address literals like [192.0.2.1] are not accepted"},
		{"jean@192.0.2.1", "domain looks like an IP address"},
		{"jean@-example.org", `domain label "-example" starts with a hyphen`},
		{"jean@example-.org", `domain label "example-" ends with a hyphen`},
		{"jean@ab--cd.org", `invalid domain "ab--cd.org"`},
		{"jean@xn--zz.org", `invalid domain "xn--zz.org"`},
		{"jean@\u05d0a.org", "invalid international domain \"\u05d0a.org\""},
		{"jean@ex\xe9mple.org", "invalid UTF-8 in domain"},
		{"x@" + strings.Repeat("a", 64) + ".org", `domain label "` + strings.Repeat("a", 64) + `" is 64 octets, more than 63`},
		{"x@" + long253, "domain is 255 octets, more than 253"},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		var e *Error
		if !errors.As(err, &e) || e.Reason != tt.reason || e.Input != tt.in {
			t.Errorf("Normalize(%q) = %q, %v, want reason %q", tt.in, got, err, tt.reason)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := Normalize("jean.example.org")
	if got, want := err.Error(), `invalid address "jean.example.org": missing @`; got != want {
		t.Errorf("Normalize error = %q, want %q", got, want)
	}
	// A huge cell is cut on a rune boundary so the message stays one short line.
	_, err = Normalize(strings.Repeat("é", 100))
	if got, want := err.Error(), `invalid address "`+strings.Repeat("é", 40)+`…": missing @`; got != want {
		t.Errorf("Normalize error = %q, want %q", got, want)
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Jean.Dupont@example.org", "jean.dupont@example.org"},
		{"jean.dupont@example.org", "jean.dupont@example.org"},
		{`"Jean Dupont"@example.org`, `"jean dupont"@example.org`},
	}
	for _, tt := range tests {
		if got := Key(tt.in); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// The point of Key: two spellings of one mailbox are one person.
	a, _ := Normalize("Jean@Example.org")
	b, _ := Normalize("<jean@example.ORG>")
	if Key(a) != Key(b) {
		t.Errorf("Key(%q) = %q, Key(%q) = %q, want equal", a, Key(a), b, Key(b))
	}
}

func TestDomain(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"jean@example.org", "example.org"},
		{"jean@Example.ORG", "example.org"},
		{`"a@b"@example.net`, "example.net"},
		{"no-at-sign", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Domain(tt.in); got != tt.want {
			t.Errorf("Domain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"jeann@example.org", "j***n@e*****e.org"},
		{"jean.martin@example.org", "j*********n@e*****e.org"},
		{"jo@example.org", "j*@e*****e.org"},
		{"j@example.org", "*@e*****e.org"},
		{"jean@mairie.ville.example.fr", "j**n@m****e.v***e.e*****e.fr"},
		{"jean@xn--exmple-cua.fr", "j**n@x************a.fr"},
		{"no-at-sign", "n********n"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"jean@example.org", " <mailto:Jean@EXÄMPLE.fr> ", `"a b"@example.org`,
		`"a\"b"@x.fr`, "a@b", "@", `"`, "<<>>", "mailto:mailto:x@y.fr", "x@ｅｘ.org",
		"a@b。c", "\u00a0x@y.z\u200b", `"\\"@x.fr`, "x@xn--exmple-cua.fr",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Normalize(s) // must not panic
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Reason == "" {
				t.Fatalf("Normalize(%q) error = %#v, want *Error with a reason", s, err)
			}
			return
		}
		n2, err := Normalize(n)
		if err != nil || n2 != n {
			t.Fatalf("Normalize(Normalize(%q)) = %q, %v, want %q", s, n2, err, n)
		}
		if len(n) > maxLocal+1+maxDomain {
			t.Fatalf("Normalize(%q) = %q, longer than any valid address", s, n)
		}
		_ = Mask(n)
	})
}
