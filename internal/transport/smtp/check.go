package smtp

import (
	"context"

	"bulletin/internal/config"
)

// OptionsFromConfig returns the relay's options from the smtp section;
// DKIM, which needs its key file read, is left to the caller.
func OptionsFromConfig(cfg *config.Config) Options {
	c := cfg.SMTP
	return Options{
		Host: c.Host, Port: c.Port, TLS: TLSMode(c.TLS),
		Username: c.Username, Password: c.Password, Auth: AuthMech(c.Auth),
		HELO: c.HELO, Timeout: c.Timeout, Connections: c.Connections,
	}
}

// Check opens one connection as a send does (greeting, EHLO, STARTTLS,
// AUTH), says QUIT, and returns the relay's answer to EHLO: an admin
// testing the settings sees the relay's own words. A failure is the
// *outgoing.SendError a send would get, with the relay's reply; it never
// holds the password.
func (s *Sender) Check(ctx context.Context) (string, error) {
	cn, err := s.dial(ctx)
	if err != nil {
		return "", err
	}
	hello := cn.c.HelloResponse()
	return hello, cn.quit(s.opts.Timeout)
}
