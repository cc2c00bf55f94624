package smtptest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
)

// loginServer is the server side of the LOGIN mechanism, which go-sasl
// does not provide: ask for the user name, then the password.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

var _ sasl.Server = (*loginServer)(nil)

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch {
	case l.step == 1 && resp == nil:
		return []byte("Username:"), false, nil
	case l.step == 1:
		// The user name came as an initial response.
		l.user, l.step = string(resp), 2
		return []byte("Password:"), false, nil
	case l.step == 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	case l.step == 3:
		return nil, true, l.check(l.user, string(resp))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

// cramServer is the server side of CRAM-MD5 (RFC 2195).
type cramServer struct {
	user, pass string
	ok         func(user string)
	challenge  []byte
}

func newCRAMServer(user, pass string, ok func(string)) *cramServer {
	return &cramServer{user: user, pass: pass, ok: ok}
}

func (c *cramServer) Next(resp []byte) ([]byte, bool, error) {
	if c.challenge == nil {
		c.challenge = fmt.Appendf(nil, "<%s@smtptest.localhost>", rand.Text())
		return c.challenge, false, nil
	}
	user, digest, _ := strings.Cut(string(resp), " ")
	mac := hmac.New(md5.New, []byte(c.pass))
	mac.Write(c.challenge)
	want := hex.EncodeToString(mac.Sum(nil))
	if user != c.user || !hmac.Equal([]byte(digest), []byte(want)) {
		return nil, true, errAuthFailed
	}
	c.ok(user)
	return nil, true, nil
}
