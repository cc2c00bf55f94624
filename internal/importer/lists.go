package importer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"bulletin/internal/store"
)

// UnknownListError is an import into a list that does not exist, without
// the permission to create it: a typo ("Partenaire" for "Partenaires")
// would otherwise make a new list that no campaign goes to.
type UnknownListError struct {
	List    string
	Similar []string // existing lists with a close name, the closest first
}

func (e *UnknownListError) Error() string {
	msg := fmt.Sprintf("import: no list named %q", e.List)
	if len(e.Similar) > 0 {
		msg += fmt.Sprintf(": did you mean %q?", e.Similar[0])
		if len(e.Similar) > 1 {
			msg += " (also close: " + strings.Join(quoted(e.Similar[1:]), ", ") + ")"
		}
	}
	return msg + " (to make a new list: --create-list, or create it first)"
}

func quoted(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// checkList returns an *UnknownListError when no list is named name.
func checkList(ctx context.Context, st *store.Storage, name string) error {
	_, err := st.ListByName(ctx, name)
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	lists, err := st.Lists(ctx)
	if err != nil {
		return err
	}
	names := make([]string, len(lists))
	for i, l := range lists {
		names[i] = l.Name
	}
	return &UnknownListError{List: name, Similar: Similar(name, names)}
}

// Similar returns the names close to name, the closest first: on their
// folded forms (lower case, no accents, no spaces or punctuation, as the
// importer matches column headers), equal, within an edit distance of a
// third of the name's length (at least 1, at most 3), or one containing the
// other.
func Similar(name string, names []string) []string {
	key := fold(name)
	limit := min(max(len([]rune(key))/3, 1), 3)
	type cand struct {
		name string
		d    int
	}
	var found []cand
	for _, n := range names {
		k := fold(n)
		d := distance(key, k)
		if d > limit && !(len(key) >= 4 && (strings.Contains(k, key) || strings.Contains(key, k))) {
			continue
		}
		found = append(found, cand{n, d})
	}
	slices.SortStableFunc(found, func(x, y cand) int { return x.d - y.d })
	out := make([]string, len(found))
	for i, c := range found {
		out[i] = c.name
	}
	return out
}

// distance is the edit distance between a and b, in runes: insertions,
// deletions, substitutions, and swaps of two neighbours ("SIEA" for
// "SIAE"), each counting one (optimal string alignment).
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
