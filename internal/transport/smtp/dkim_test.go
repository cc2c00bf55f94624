package smtp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"bulletin/internal/outgoing"
	"bulletin/internal/smtptest"
)

// TestDKIMSignedAsReceived signs with go-mail and checks the signature on
// the bytes the relay received, with an independent relaxed/relaxed
// verifier (RFC 6376 section 3.4.2 and 3.4.4).
func TestDKIMSignedAsReceived(t *testing.T) {
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		key  crypto.Signer
		pub  crypto.PublicKey
	}{
		{"ed25519", edKey, edPub},
		{"rsa", rsaKey, &rsaKey.PublicKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			der, err := x509.MarshalPKCS8PrivateKey(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
			srv := smtptest.Start(t, smtptest.Options{})
			s := sender(t, srv, Options{DKIM: &outgoing.DKIM{Domain: "news.example.org", Selector: "bulletin", PrivateKeyPEM: pemKey}})
			m := message(1)
			m.HTML += "\n.a line starting with a dot\n" // dot-stuffed on the wire
			if _, err := s.Send(context.Background(), m); err != nil {
				t.Fatalf("Send = %v, want nil", err)
			}
			tags, err := verifyDKIM(srv.Messages()[0].Data, tt.pub)
			if err != nil {
				t.Fatalf("verifyDKIM = %v, want nil", err)
			}
			h := strings.ToLower(tags["h"])
			for _, want := range []string{"from", "subject", "list-unsubscribe", "list-unsubscribe-post"} {
				if !strings.Contains(":"+h+":", ":"+want+":") {
					t.Errorf("DKIM h= %q, want it to cover %s", tags["h"], want)
				}
			}
			if tags["d"] != "news.example.org" || tags["s"] != "bulletin" {
				t.Errorf("DKIM d=, s= = %q, %q; want news.example.org, bulletin", tags["d"], tags["s"])
			}
		})
	}
}

var wsp = regexp.MustCompile(`[ \t]+`)

// verifyDKIM checks the first DKIM-Signature of msg (relaxed/relaxed only)
// against pub and returns its tags.
func verifyDKIM(msg []byte, pub crypto.PublicKey) (map[string]string, error) {
	head, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		return nil, errors.New("no header/body separator")
	}
	type field struct{ name, raw string }
	var fields []field
	for _, line := range strings.SplitAfter(string(head)+"\r\n", "\r\n") {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			fields[len(fields)-1].raw += line
			continue
		}
		name, _, _ := strings.Cut(line, ":")
		fields = append(fields, field{name, line})
	}
	relaxed := func(raw string) string {
		name, val, _ := strings.Cut(raw, ":")
		val = strings.ReplaceAll(strings.ReplaceAll(val, "\r\n", ""), "\n", "")
		return strings.ToLower(strings.TrimSpace(name)) + ":" + strings.TrimSpace(wsp.ReplaceAllString(val, " "))
	}

	sigIdx := -1
	for i, f := range fields {
		if strings.EqualFold(f.name, "DKIM-Signature") {
			sigIdx = i
			break
		}
	}
	if sigIdx < 0 {
		return nil, errors.New("no DKIM-Signature")
	}
	sigRaw := fields[sigIdx].raw
	_, sigVal, _ := strings.Cut(strings.ReplaceAll(sigRaw, "\r\n", ""), ":")
	tags := map[string]string{}
	for _, t := range strings.Split(sigVal, ";") {
		k, v, ok := strings.Cut(t, "=")
		if ok {
			tags[strings.TrimSpace(k)] = strings.Join(strings.Fields(v), "")
		}
	}
	if tags["c"] != "relaxed/relaxed" {
		return tags, fmt.Errorf("c=%q, this verifier knows relaxed/relaxed only", tags["c"])
	}

	// Body hash.
	lines := strings.Split(string(body), "\r\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(wsp.ReplaceAllString(l, " "), " ")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	cbody := ""
	if len(lines) > 0 {
		cbody = strings.Join(lines, "\r\n") + "\r\n"
	}
	bh := sha256.Sum256([]byte(cbody))
	if got := base64.StdEncoding.EncodeToString(bh[:]); got != tags["bh"] {
		return tags, fmt.Errorf("body hash = %s, signature says %s", got, tags["bh"])
	}

	// Header hash: each name in h= takes the last unused instance.
	used := map[int]bool{sigIdx: true}
	var in strings.Builder
	for _, name := range strings.Split(tags["h"], ":") {
		for i := len(fields) - 1; i >= 0; i-- {
			if !used[i] && strings.EqualFold(fields[i].name, name) {
				used[i] = true
				in.WriteString(relaxed(fields[i].raw) + "\r\n")
				break
			}
		}
	}
	noB := regexp.MustCompile(`(^|;)(\s*b\s*=)[^;]*`).ReplaceAllString(sigVal, "$1$2")
	in.WriteString(relaxed("DKIM-Signature:" + noB))
	hash := sha256.Sum256([]byte(in.String()))
	sig, err := base64.StdEncoding.DecodeString(tags["b"])
	if err != nil {
		return tags, err
	}
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if !ed25519.Verify(k, hash[:], sig) {
			return tags, errors.New("ed25519 signature does not verify")
		}
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, hash[:], sig); err != nil {
			return tags, err
		}
	}
	return tags, nil
}
