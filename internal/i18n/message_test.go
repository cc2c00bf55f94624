package i18n

import (
	"errors"
	"fmt"
	"testing"
)

// A message says itself in each language, with its arguments: integers
// grouped as the language groups them, keys translated, messages within
// messages too; String is the English of the CLI.
func TestMessage(t *testing.T) {
	m := M("import.suppressed.left", "jean@example.org", Key("import.status.unsubscribed"))
	if got, want := New("fr").Msg(m), "jean@example.org est désabonnée\u00a0: laissée exclue"; got != want {
		t.Errorf("fr = %q, want %q", got, want)
	}
	if got, want := m.String(), "jean@example.org is unsubscribed: left suppressed"; got != want {
		t.Errorf("en = %q, want %q", got, want)
	}
	done := M("campaign.cause.done", 1302, 1282, 12, 8)
	if got, want := New("fr").Msg(done), "moteur d’envoi\u00a0: les 1\u202f302 envois sont faits\u00a0: 1\u202f282 partis, 12 en échec, 8 écartés"; got != want {
		t.Errorf("fr = %q, want %q", got, want)
	}
	if got, want := done.String(), "engine: all 1,302 deliveries done: 1,282 sent, 12 failed, 8 skipped"; got != want {
		t.Errorf("en = %q, want %q", got, want)
	}
	nested := M("address.invalid", `"jean.example.org"`, M("address.missing_at"))
	if got, want := New("fr").Msg(nested), "adresse invalide \"jean.example.org\"\u00a0: il manque le @"; got != want {
		t.Errorf("fr = %q, want %q", got, want)
	}
	if !(Message{}).IsZero() || New("fr").Msg(Message{}) != "" {
		t.Error("the zero Message is not empty")
	}
}

// What a row keeps (code and parameters) gives back the same message, in
// either language; a row written before codes shows its words as they are.
func TestStoredMessage(t *testing.T) {
	for _, m := range []Message{
		M("campaign.cause.created"),
		M("campaign.cause.done_twice", 302, 282, 12, 8, 1),
		M("campaign.cause.action", M("campaign.cause.console", "a@example.org"), Key("campaign.action.pause")),
		M("history.detail.lifted", Key("import.status.bounced"), "a@example.org", "adresse corrigée"),
	} {
		code, params := m.Encode()
		back := Stored(code, params, "ignored")
		for _, lang := range Languages() {
			p := New(lang)
			if got, want := p.Msg(back), p.Msg(m); got != want {
				t.Errorf("%s: %s stored as %q %q comes back as %q, want %q", lang, m.Key, code, params, got, want)
			}
		}
	}
	legacy := Stored("", "", "engine: all 302 deliveries done")
	if got := New("fr").Msg(legacy); got != "engine: all 302 deliveries done" {
		t.Errorf("a row without a code shows %q", got)
	}
	if !Stored("", "", "").IsZero() {
		t.Error("an empty row gives a message")
	}
	if got := New("fr").Msg(Stored("campaign.cause.done", "not json", "old words")); got != "old words" {
		t.Errorf("a row with broken parameters shows %q, want its words", got)
	}
}

// An error made of a message prints in English and reads in French; one
// that wraps it too; any other error shows its own words.
func TestErrorMessages(t *testing.T) {
	err := fmt.Errorf("upload: %w", Errorf("import.file.empty"))
	if got := err.Error(); got != "upload: the file is empty" {
		t.Errorf("Error() = %q", got)
	}
	if got := New("fr").Err(err); got != "le fichier est vide" {
		t.Errorf("fr Err = %q", got)
	}
	if got := New("fr").Err(errors.New("disk full")); got != "disk full" {
		t.Errorf("fr Err of a plain error = %q", got)
	}
	if got := MessageOf(errors.New("disk full")); got.String() != "disk full" {
		t.Errorf("MessageOf = %v", got)
	}
}
