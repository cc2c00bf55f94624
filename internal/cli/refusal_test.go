package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	gosmtp "github.com/emersion/go-smtp"

	"bulletin/internal/smtptest"
)

// Through the commands and the real SMTP sender (issue 13): a relay that
// refuses unknown users at RCPT TO bounces them with its reply as the
// reason, counts a policy refusal as soft, the report says so in JSON and
// in text, and the next campaign skips the bounced address.
func TestRelayRefusalsThroughTheCommands(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Faults: smtptest.Faults{RcptErr: map[string]*gosmtp.SMTPError{
		"inconnu@example.net": {Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "<inconnu@example.net>: Recipient address rejected: User unknown in local recipient table"},
		"filtre@example.net":  {Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "<filtre@example.net>: Recipient address rejected: refused by local policy"},
	}}})
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", storeYAML(t, dir)+fmt.Sprintf("sending:\n  from: MICS 34 <lettre@example.org>\n  rate: 0\n"+
		"smtp:\n  host: %s\n  port: %d\n  tls: none\n  connections: 1\n  timeout: 10s\n", srv.Host(), srv.Port()))
	csvFile := writeFile(t, dir, "abonnes.csv", "email\nanne@example.net\ninconnu@example.net\nfiltre@example.net\n")
	edition := writeFile(t, dir, "lettre.md", goodEdition)
	if out, err := run(t, dir, "import", "--create-list", "--list", "Partenaires", csvFile); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	send := func(name string) {
		t.Helper()
		if out, err := run(t, dir, "campaign", "create", "--edition", edition, "--list", "Partenaires", "--name", name); err != nil {
			t.Fatalf("campaign create: %v\n%s", err, out)
		}
		if out, err := run(t, dir, "campaign", "send", "--yes", "--wait", name); err != nil {
			t.Fatalf("campaign send: %v\n%s", err, out)
		}
	}

	send("Lettre 1")
	out, err := run(t, dir, "report", "Lettre 1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report --json: %v\n%s", err, out)
	}
	for name, want := range map[string]float64{"recipients": 3, "sent": 1, "failed": 2, "skipped": 0, "pending": 0,
		"bounced_hard": 0, "refused_hard": 1, "refused_soft": 1, "dead_addresses": 1} {
		if r[name] != want {
			t.Errorf("report --json: %q = %v, want %v", name, r[name], want)
		}
	}
	text, err := run(t, dir, "report", "Lettre 1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"refused_hard         1", "dead_addresses       1   = bounced_hard 0 + refused_hard 1",
		"refused by the relay, by reason:", "user_unknown", "550 5.1.1"} {
		if !strings.Contains(text, want) {
			t.Errorf("report text lacks %q:\n%s", want, text)
		}
	}
	for addr, want := range map[string]string{"inconnu@example.net": "bounced", "filtre@example.net": "active"} {
		out, err := run(t, dir, "subscriber", "show", addr)
		var shown struct {
			Status       string `json:"status"`
			StatusReason string `json:"status_reason"`
		}
		if err != nil || json.Unmarshal([]byte(out), &shown) != nil || shown.Status != want {
			t.Errorf("subscriber show %s = %v:\n%s\nwant status %s", addr, err, out, want)
		}
		if want == "bounced" && !strings.HasPrefix(shown.StatusReason, "RCPT TO: 550 5.1.1") {
			t.Errorf("subscriber show %s: status_reason %q, want the relay's reply", addr, shown.StatusReason)
		}
	}

	send("Lettre 2")
	if out, _ := run(t, dir, "report", "Lettre 2", "--json"); !strings.Contains(out, `"skipped":1`) && !strings.Contains(out, `"skipped": 1`) {
		t.Errorf("second campaign: want the bounced address skipped:\n%s", out)
	}
	if n := srv.Attempts("inconnu@example.net"); n != 1 {
		t.Errorf("the unknown address was tried %d times over two campaigns, want 1", n)
	}
}
