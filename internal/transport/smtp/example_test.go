package smtp_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"bulletin/internal/outgoing"
	"bulletin/internal/smtptest"
	"bulletin/internal/transport/smtp"
)

func Example() {
	relay, err := smtptest.New(smtptest.Options{TLS: smtptest.StartTLS, Username: "bulletin", Password: "secret"})
	if err != nil {
		log.Fatal(err)
	}
	defer relay.Close()

	s, err := smtp.New(smtp.Options{
		Host: relay.Host(), Port: relay.Port(), TLS: smtp.TLSStartTLS,
		Username: "bulletin", Password: "secret",
		TLSConfig: relay.ClientTLSConfig(), Connections: 2, Timeout: 10 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	rc, err := s.Send(context.Background(), &outgoing.Message{
		From:         outgoing.Address{Name: "Mission Insertion", Addr: "lettre@news.example.org"},
		To:           outgoing.Address{Name: "Chloé Dupré", Addr: "chloe@example.net"},
		Subject:      "Édition spéciale : 10 ans !",
		Text:         "Bonjour Chloé,\n",
		HTML:         "<p>Bonjour Chloé,</p>",
		EnvelopeFrom: "bounces+00112233445566778899aabbccddeeff0011223344556677@news.example.org",
	})
	if err != nil {
		if outgoing.IsRelayFault(err) {
			log.Fatalf("pause the campaign: %v", err)
		}
		log.Fatalf("mark the recipient: %v", err)
	}
	fmt.Println(strings.HasPrefix(rc.Reply, "250 2.0.0 Ok: queued as "), rc.QueueID != "")
	// Output: true true
}
