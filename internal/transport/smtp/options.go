package smtp

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"bulletin/internal/outgoing"
)

// TLSMode is how the connection to the relay is encrypted.
type TLSMode string

// The TLS modes.
const (
	// TLSImplicit: TLS from the first byte (port 465, RFC 8314).
	TLSImplicit TLSMode = "tls"
	// TLSStartTLS: plain connection upgraded with STARTTLS, which is
	// required: a relay that does not offer it is an error. The default.
	TLSStartTLS TLSMode = "starttls"
	// TLSOpportunistic: STARTTLS when the relay offers it, plain otherwise;
	// a handshake that fails is an error, not a fall back to plain. Only
	// for a relay on a trusted network: anyone on the path can strip the
	// offer.
	TLSOpportunistic TLSMode = "opportunistic"
	// TLSNone: never encrypt (a relay on localhost).
	TLSNone TLSMode = "none"
)

// AuthMech is the SASL mechanism used to log in to the relay.
type AuthMech string

// The authentication mechanisms.
const (
	// AuthAuto picks among what the relay offers: PLAIN, then LOGIN, then
	// CRAM-MD5 on an encrypted connection; CRAM-MD5 first otherwise, since
	// it does not send the password itself.
	AuthAuto    AuthMech = "auto"
	AuthPlain   AuthMech = "plain"
	AuthLogin   AuthMech = "login"
	AuthCRAMMD5 AuthMech = "cram-md5"
)

// Options configure a Sender.
type Options struct {
	Host string
	// Port defaults to 465 with TLSImplicit and 587 (submission) otherwise.
	Port int
	// TLS defaults to TLSStartTLS.
	TLS TLSMode
	// Username and Password log in to the relay when Username is set.
	// go-mail refuses to send them unencrypted except to localhost.
	Username, Password string
	// Auth defaults to AuthAuto.
	Auth AuthMech
	// HELO is the name given in EHLO; it defaults to the host name.
	HELO string
	// Timeout bounds the opening of a connection (connect, greeting, TLS,
	// AUTH) and, separately, each message's transaction on it. Default 30s.
	Timeout time.Duration
	// Connections is how many connections are kept open to the relay, and
	// so how many messages are in flight at once. Default 2.
	Connections int
	// TLSConfig is cloned for the TLS handshakes; nil means the system
	// roots. ServerName defaults to Host.
	TLSConfig *tls.Config
	// DKIM signs every message when set; see outgoing.DKIM.
	DKIM *outgoing.DKIM
}

// withDefaults returns a copy of o with defaults filled in, or an error
// naming the bad option.
func (o Options) withDefaults() (Options, error) {
	if o.Host == "" {
		return o, fmt.Errorf("smtp: Host is required")
	}
	switch o.TLS {
	case "":
		o.TLS = TLSStartTLS
	case TLSImplicit, TLSStartTLS, TLSOpportunistic, TLSNone:
	default:
		return o, fmt.Errorf("smtp: TLS %q is not one of tls, starttls, opportunistic, none", o.TLS)
	}
	switch o.Auth {
	case "":
		o.Auth = AuthAuto
	case AuthAuto, AuthPlain, AuthLogin, AuthCRAMMD5:
	default:
		return o, fmt.Errorf("smtp: Auth %q is not one of auto, plain, login, cram-md5", o.Auth)
	}
	if o.Port == 0 {
		o.Port = 587
		if o.TLS == TLSImplicit {
			o.Port = 465
		}
	}
	if o.Port < 0 || o.Port > 65535 {
		return o, fmt.Errorf("smtp: Port %d is out of range", o.Port)
	}
	if o.HELO == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		o.HELO = h
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Connections <= 0 {
		o.Connections = 2
	}
	var cfg *tls.Config
	if o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = o.Host
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	o.TLSConfig = cfg
	return o, nil
}

func (o Options) addr() string {
	return net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
}
