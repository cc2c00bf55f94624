package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// subscribers returns n distinct recipients, as a campaign over a list
// would have them.
func subscribers(n int) []Recipient {
	first := []string{"Claire", "Jean-Pierre", "Amélie", "", "Florence", "Élodie", "Marc", "Søren"}
	last := []string{"Martin", "FAYE-HERICK", "de La Fontaine", "", "O'Brien", "NIETO"}
	rs := make([]Recipient, n)
	for i := range rs {
		token := fmt.Sprintf("%048x", i*2654435761)
		rs[i] = Recipient{
			Email:          fmt.Sprintf("abonne%d@collectivite-%d.example", i, i%97),
			FirstName:      first[i%len(first)],
			LastName:       last[i%len(last)],
			Organisation:   "Conseil départemental de l’Hérault",
			UnsubscribeURL: "https://lettre.example.org/u/" + token,
			WebViewURL:     "https://lettre.example.org/v/" + token,
		}
	}
	return rs
}

// BenchmarkRenderRecipient renders the example edition, personalised, for
// 100,000 subscribers in turn: one op is one message (HTML and text).
//
//	go test ./internal/render -run '^$' -bench RenderRecipient -benchmem -cpu 1
//
// "append" reuses one pair of buffers, as a sender writing each message out
// before the next would; "write" streams both bodies into a reused writer;
// "strings" and "render" allocate each message's bodies afresh, as strings
// or as bytes.
func BenchmarkRenderRecipient(b *testing.B) {
	tm, ed := loadExample(b, "https://lettre.example.org")
	p, err := tm.Prepare(ed)
	if err != nil {
		b.Fatal(err)
	}
	subs := subscribers(100_000)

	b.Run("append", func(b *testing.B) {
		var html, text []byte
		n := 0
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			r := subs[i%len(subs)]
			html = p.AppendHTML(html[:0], r)
			text = p.AppendText(text[:0], r)
			n += len(html) + len(text)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(float64(n)/float64(b.N), "bytes/msg")
	})
	b.Run("write", func(b *testing.B) {
		var buf bytes.Buffer
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			r := subs[i%len(subs)]
			buf.Reset()
			if err := p.WriteHTML(&buf, r); err != nil {
				b.Fatal(err)
			}
			if err := p.WriteText(&buf, r); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("strings", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			html, text := p.RenderStrings(subs[i%len(subs)])
			if len(html) == 0 || len(text) == 0 {
				b.Fatal("empty message")
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			m := p.Render(subs[i%len(subs)])
			if len(m.HTML) == 0 || len(m.Text) == 0 {
				b.Fatal("empty message")
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// BenchmarkPrepare is the per-edition work, done once per campaign.
func BenchmarkPrepare(b *testing.B) {
	tm, ed := loadExample(b, "https://lettre.example.org")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tm.Prepare(ed); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRenderIsCheap holds the per-recipient path to its promise: no
// allocation when buffers are reused, one otherwise.
func TestRenderIsCheap(t *testing.T) {
	tm, ed := loadExample(t, "https://lettre.example.org")
	p, err := tm.Prepare(ed)
	if err != nil {
		t.Fatal(err)
	}
	r := exampleRecipient()
	html := p.AppendHTML(nil, r)
	text := p.AppendText(nil, r)
	if n := testing.AllocsPerRun(100, func() {
		html = p.AppendHTML(html[:0], r)
		text = p.AppendText(text[:0], r)
	}); n != 0 {
		t.Errorf("AppendHTML+AppendText allocate %v times per message, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { p.Render(r) }); n != 1 {
		t.Errorf("Render allocates %v times per message, want 1", n)
	}
	m := p.Render(r)
	if string(m.HTML) != string(html) || string(m.Text) != string(text) {
		t.Errorf("Render differs from AppendHTML and AppendText")
	}
	hs, ts := p.RenderStrings(r)
	if hs != string(html) || ts != string(text) {
		t.Errorf("RenderStrings differs from AppendHTML and AppendText")
	}
	var w strings.Builder
	if err := p.WriteHTML(&w, r); err != nil || w.String() != string(html) {
		t.Errorf("WriteHTML differs from AppendHTML (%v)", err)
	}
	if n := testing.AllocsPerRun(100, func() { p.RenderStrings(r) }); n != 2 {
		t.Errorf("RenderStrings allocates %v times per message, want 2", n)
	}
}
