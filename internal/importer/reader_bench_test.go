package importer

import (
	"io"
	"runtime"
	"strconv"
	"testing"
)

// rowSource generates a SendinBlue-like export of n rows on the fly, so that
// a million-row file needs no disk and no memory.
type rowSource struct {
	n, i int
	buf  []byte // generated and not yet read
	off  int
}

const benchHeader = "EMAIL;NOM;PRENOM;SMS;STRUCTURE;LIST_IDS;EMAIL_BLACKLISTED;SMS_BLACKLISTED;ADDED_TIME;MODIFIED_TIME\n"

var (
	benchFirst = []string{"Hélène", "François", "Zoë", "Jean", "Anaïs", "Loïc", "Gaëlle", "Jérôme"}
	benchLast  = []string{"LEFÈVRE", "MARTIN", "GIRARD", "CŒUR", "MÉNARD", "ROUX", "BOYER", "DUPRÉ"}
	benchOrg   = []string{"Mairie de Sète", "Conseil départemental de l'Hérault", "GEIQ BTP", "Bâti-Sud Travaux SARL"}
)

func newRowSource(n int) *rowSource {
	return &rowSource{n: n, buf: []byte(benchHeader)}
}

func (s *rowSource) Read(p []byte) (int, error) {
	if s.off == len(s.buf) {
		if s.i == s.n {
			return 0, io.EOF
		}
		s.buf, s.off = s.buf[:0], 0
		// Generate a batch of rows at a time to keep the source cheap next
		// to the reader it feeds.
		for k := 0; k < 256 && s.i < s.n; k++ {
			s.buf = s.appendRow(s.buf, s.i)
			s.i++
		}
	}
	n := copy(p, s.buf[s.off:])
	s.off += n
	return n, nil
}

func (s *rowSource) appendRow(b []byte, i int) []byte {
	b = append(b, "contact."...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, "@example.org;"...)
	b = append(b, benchLast[i%len(benchLast)]...)
	b = append(b, ';')
	b = append(b, benchFirst[i%len(benchFirst)]...)
	b = append(b, ";+336"...)
	b = strconv.AppendInt(b, int64(10000000+i%90000000), 10)
	b = append(b, ';')
	b = append(b, benchOrg[i%len(benchOrg)]...)
	b = append(b, ";2,7;"...)
	if i%50 == 0 {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, ";false;2019-03-14 10:21:05;2020-01-06 09:00:12\n"...)
	return b
}

// readRows reads every row of rd and returns how many there were.
func readRows(tb testing.TB, rd *Reader) int {
	n := 0
	for {
		_, err := rd.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}

// BenchmarkReader reads a generated 1,000,000-row SendinBlue export. Run it
// with: go test ./internal/importer -run '^$' -bench Reader -benchmem
// B/op and allocs/op are totals for the million rows; B/row and allocs/row
// say what one row costs, and TestReaderMemoryFlat shows that none of it is
// kept.
func BenchmarkReader(b *testing.B) {
	const rows = 1_000_000
	var size int64
	{
		rd, err := NewReader(newRowSource(rows), "bench.csv")
		if err != nil {
			b.Fatal(err)
		}
		readRows(b, rd)
		size = rd.Progress()
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	total := 0
	for b.Loop() {
		rd, err := NewReader(newRowSource(rows), "bench.csv")
		if err != nil {
			b.Fatal(err)
		}
		if n := readRows(b, rd); n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
		total += rows
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(total), "B/row")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(total), "allocs/row")
}

// TestReaderMemoryFlat reads a million generated rows (200,000 with -short)
// and checks that the live heap does not grow with the file.
func TestReaderMemoryFlat(t *testing.T) {
	// Not parallel: other tests' allocations would blur the measure.
	rows := 1_000_000
	if testing.Short() {
		rows = 200_000
	}
	rd, err := NewReader(newRowSource(rows), "flat.csv")
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var samples []uint64
	for n := 0; ; n++ {
		if n%(rows/10) == 0 {
			samples = append(samples, heap())
		}
		_, err := rd.Next()
		if err == io.EOF {
			if n != rows {
				t.Fatalf("read %d rows, want %d", n, rows)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	const slack = 1 << 20
	lowest, highest := samples[0], samples[0]
	for _, s := range samples {
		lowest, highest = min(lowest, s), max(highest, s)
	}
	if highest-lowest > slack {
		t.Errorf("live heap over %d rows went from %d to %d bytes (samples %v), want growth under %d", rows, lowest, highest, samples, slack)
	}
	t.Logf("live heap over %d rows: %d to %d bytes", rows, lowest, highest)
	runtime.KeepAlive(rd)
}
