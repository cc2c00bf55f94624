package token

import (
	"bytes"
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	s := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	payload := bytes.Repeat([]byte{0xab}, 16)
	tok := s.Sign(Delivery, payload)
	if len(tok) != 48 || tok != strings.ToLower(tok) {
		t.Fatalf("Sign = %q, want 48 lower-case hex characters", tok)
	}
	for _, in := range []string{tok, strings.ToUpper(tok)} {
		got, err := s.Verify(Delivery, in)
		if err != nil || !bytes.Equal(got, payload) {
			t.Errorf("Verify(%q) = %x, %v; want %x", in, got, err, payload)
		}
	}
	bad := []struct{ name, tok string }{
		{"other purpose", s.Sign(Unsubscribe, payload)},
		{"other key", NewSigner([]byte("another key")).Sign(Delivery, payload)},
		{"flipped payload", "bb" + tok[2:]},
		{"not hex", "zz" + tok[2:]},
		{"too short", tok[:10]},
		{"empty", ""},
	}
	for _, b := range bad {
		if _, err := s.Verify(Delivery, b.tok); err != ErrInvalid {
			t.Errorf("Verify(%s) error = %v, want ErrInvalid", b.name, err)
		}
	}
}
