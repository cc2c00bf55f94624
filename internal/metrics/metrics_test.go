package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"bulletin/internal/links"
	"bulletin/internal/mailbox"
	"bulletin/internal/outgoing"
	"bulletin/internal/store"
	"bulletin/internal/token"
)

type fakeStore struct{ err error }

func (f fakeStore) Metrics(context.Context) (*store.MetricsSnapshot, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &store.MetricsSnapshot{Deliveries: map[store.DeliveryState]int{store.Delivered: 42, store.Undelivered: 3},
		Due: 7, MailboxEvents: map[string]int{"hard": 2}, Campaigns: map[store.CampaignState]int{},
		Subscribers: map[store.Status]int{store.Active: 40}}, nil
}

func (f fakeStore) UnverifiedMailboxEvents(context.Context) (map[string]int, error) {
	return map[string]int{"hard": 1}, f.err
}

type sender struct{ err error }

func (s sender) Send(context.Context, *outgoing.Message) (outgoing.Receipt, error) {
	return outgoing.Receipt{}, s.err
}
func (sender) Close() error { return nil }

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	m := New(Options{Store: fakeStore{}, Transport: "SMTP relay smtp.example.org:587",
		Mailbox: func() mailbox.Health { return mailbox.Health{Connected: true, Processed: 5} }})
	body := scrape(t, m)
	for _, want := range []string{"bulletin_messages_sent_total 42", "bulletin_messages_failed_total 3", "bulletin_queue_depth 7",
		`bulletin_mailbox_events_total{kind="hard"} 2`, `bulletin_mailbox_events_total{kind="complaint"} 0`,
		`bulletin_mailbox_unverified_total{kind="hard"} 1`, `bulletin_mailbox_unverified_total{kind="unsubscribe"} 0`,
		"bulletin_mailbox_connected 1", "bulletin_mailbox_processed_total 5", `bulletin_relay_info{transport="SMTP relay smtp.example.org:587"} 1`,
		"bulletin_store_up 1", "process_"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// The wrapper counts and passes the errors on unchanged; only the
	// relay's own failures make it unhealthy.
	r := m.Relay()
	recipientErr := &outgoing.SendError{Code: 550, Scope: outgoing.ScopeRecipient, Message: "user unknown"}
	if _, err := r.Wrap(sender{err: recipientErr}).Send(context.Background(), nil); !errors.Is(err, recipientErr) {
		t.Errorf("Send = %v, want the transport's error", err)
	}
	if err := r.HealthCheck(context.Background()); err != nil {
		t.Errorf("health after a refused recipient = %v, want nil", err)
	}
	relayErr := &outgoing.SendError{Scope: outgoing.ScopeRelay, Temporary: true, Message: "connection refused"}
	r.Wrap(sender{err: relayErr}).Send(context.Background(), nil)
	if err := r.HealthCheck(context.Background()); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("health after a relay failure = %v", err)
	}
	body = scrape(t, m)
	for _, want := range []string{`bulletin_relay_errors_total{kind="permanent",scope="recipient"} 1`,
		`bulletin_relay_errors_total{kind="temporary",scope="relay"} 1`, "bulletin_relay_attempts_total 2", "bulletin_relay_up 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	r.Wrap(sender{}).Send(context.Background(), nil)
	if err := r.HealthCheck(context.Background()); err != nil {
		t.Errorf("health after a success = %v", err)
	}

	// A store that does not answer: the scrape says so and still works.
	if body := scrape(t, New(Options{Store: fakeStore{err: errors.New("disk I/O error")}})); !strings.Contains(body, "bulletin_store_up 0") ||
		!strings.Contains(body, "bulletin_mailbox_watcher_enabled 0") {
		t.Errorf("/metrics with a broken store:\n%s", body)
	}
}

// Two daemons in one process (tests) have their own registries.
func TestRegistriesApart(t *testing.T) {
	t.Parallel()
	a, b := New(Options{Store: fakeStore{}}), New(Options{Store: fakeStore{}})
	a.Relay().Wrap(sender{}).Send(context.Background(), nil)
	if strings.Contains(scrape(t, b), "bulletin_relay_attempts_total 1") {
		t.Error("a send counted in another daemon's metrics")
	}
}

// TestUnverifiedCounter runs a forged bounce (no token) through the
// processor over a real store: /metrics counts it as unverified, and the
// subscriber it names stays active.
func TestUnverifiedCounter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "bulletin.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sub := &store.Subscriber{Email: "victim@example.fr", Status: store.Active}
	if err := st.AddSubscriber(ctx, sub, nil, false); err != nil {
		t.Fatal(err)
	}
	m := New(Options{Store: st})
	if body := scrape(t, m); !strings.Contains(body, `bulletin_mailbox_unverified_total{kind="hard"} 0`) {
		t.Fatalf("/metrics before: no unverified counter at 0")
	}
	proc := mailbox.NewProcessor(st, &links.Links{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))}, mailbox.Rules{}, nil)
	forged := "From: MAILER-DAEMON@example.net\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n<victim@example.fr>: 550 5.1.1 user unknown\r\n"
	if _, err := proc.Process(ctx, mailbox.Message{Mailbox: "INBOX", UIDValidity: 1, UID: 1, Raw: []byte(forged)}); err != nil {
		t.Fatal(err)
	}
	if body := scrape(t, m); !strings.Contains(body, `bulletin_mailbox_unverified_total{kind="hard"} 1`) {
		t.Errorf("/metrics after a forged bounce lacks the unverified hard bounce")
	}
	if got, _ := st.SubscriberByID(ctx, sub.ID); got.Status != store.Active {
		t.Errorf("status = %s, want active", got.Status)
	}
}
