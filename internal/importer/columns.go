package importer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"bulletin/internal/address"
	"bulletin/internal/i18n"
)

// The statuses a row can carry in Row.Status; "" means the file says nothing.
const (
	StatusActive       = "active"
	StatusUnsubscribed = "unsubscribed"
	StatusBounced      = "bounced"
	StatusComplained   = "complained"
)

// severity orders statuses so that, when a row's status column and flag
// columns disagree, the one that suppresses most wins (suppression wins,
// DESIGN.md invariant 1).
var severity = map[string]int{
	"":                 0,
	StatusActive:       1,
	StatusUnsubscribed: 2,
	StatusBounced:      3,
	StatusComplained:   4,
}

// Role is what Bulletin does with a column of the file.
type Role int

// The roles a column can take. RoleAttribute is the zero value: a column that
// is not recognised is kept, as a free attribute.
const (
	RoleAttribute    Role = iota // a free attribute, keyed by its header
	RoleEmail                    // the address
	RoleFirstName                // first name
	RoleLastName                 // last name
	RoleOrganisation             // the person's organisation
	RoleStatus                   // a status in words (actif, désinscrit…)
	RoleFlag                     // a yes/no column that sets the status
	RoleConsentDate              // when the person subscribed
	RoleIgnored                  // read and dropped (SendinBlue's SMS_BLACKLISTED…)
)

// roleKeys are the catalogue keys of the roles' names.
var roleKeys = [...]string{
	RoleAttribute:    "import.role.attribute",
	RoleEmail:        "import.role.email",
	RoleFirstName:    "import.role.first_name",
	RoleLastName:     "import.role.last_name",
	RoleOrganisation: "import.role.organisation",
	RoleStatus:       "import.role.status",
	RoleFlag:         "import.role.flag",
	RoleConsentDate:  "import.role.consent_date",
	RoleIgnored:      "import.role.ignored",
}

// String returns the role in English words, as the CLI shows it.
func (r Role) String() string {
	if r < 0 || int(r) >= len(roleKeys) {
		return fmt.Sprintf("Role(%d)", int(r))
	}
	return i18n.M(roleKeys[r]).String()
}

// Column describes one column of the file and what the Reader does with it.
type Column struct {
	Index  int    // position in the file, from 0
	Header string // the header as written, trimmed
	Role   Role
	// For RoleFlag: the status a "yes" sets, and the status a "no" sets
	// ("" when a "no" says nothing). EMAIL_BLACKLISTED has IfYes
	// "unsubscribed", IfNo ""; a column "Abonné" has IfYes "active", IfNo
	// "unsubscribed".
	IfYes, IfNo string
	// Key is the attribute name for RoleAttribute: Header, or "column N" when
	// the header cell is empty.
	Key string
}

// Describe returns what the column becomes, in English words: "email",
// "unsubscribed flag", "attribute LIST_IDS".
func (c Column) Describe() string { return c.Becomes().String() }

// Becomes returns what the column becomes, as a message for the console.
func (c Column) Becomes() i18n.Message {
	switch c.Role {
	case RoleFlag:
		if c.IfNo == "" {
			return i18n.M("import.role.flag_of", i18n.Key("import.status."+c.IfYes))
		}
		return i18n.M("import.role.subscription_flag", i18n.Key("import.status."+c.IfYes), i18n.Key("import.status."+c.IfNo))
	case RoleAttribute:
		return i18n.M("import.role.attribute_of", c.Key)
	}
	if c.Role < 0 || int(c.Role) >= len(roleKeys) {
		return i18n.M("import.role.unknown", int(c.Role))
	}
	return i18n.M(roleKeys[c.Role])
}

// Mapping returns the mapping as a line for a CLI or UI:
// "EMAIL_BLACKLISTED → unsubscribed flag".
func (c Column) Mapping() i18n.Message {
	if c.Header == "" {
		return i18n.M("import.column.unnamed", strconv.Itoa(c.Index+1), c.Becomes())
	}
	return i18n.M("import.column.named", c.Header, c.Becomes())
}

// String returns the mapping in English, as the CLI prints it.
func (c Column) String() string { return c.Mapping().String() }

// headerRule says what a header means once folded (see fold).
type headerRule struct {
	role        Role
	ifYes, ifNo string // for RoleFlag
	// weak marks a name that means an e-mail column only when no other
	// column does: "adresse" is the postal address in many French files.
	weak bool
}

// headerGroups lists the folded headers, French and English, and SendinBlue's
// export columns, with their role. Matching is exact after folding, so
// "E-mail", "e mail" and "EMAIL" are one name but "Email 2" is an attribute.
var headerGroups = []struct {
	rule  headerRule
	names []string
}{
	{headerRule{role: RoleEmail}, []string{"email", "mail", "courriel", "emailaddress",
		"mailaddress", "adresseemail", "adressemail", "adressecourriel",
		"adresseelectronique", "adressemel", "mel", "emailadresse"}},
	{headerRule{role: RoleEmail, weak: true}, []string{"adresse", "address"}},
	{headerRule{role: RoleFirstName}, []string{"firstname", "prenom", "givenname", "first"}},
	{headerRule{role: RoleLastName}, []string{"lastname", "nom", "nomdefamille", "surname",
		"familyname", "last"}},
	{headerRule{role: RoleOrganisation}, []string{"organisation", "organization",
		"structure", "societe", "entreprise", "company", "organisme", "etablissement",
		"raisonsociale"}},
	{headerRule{role: RoleStatus}, []string{"status", "statut", "etat",
		"subscriptionstatus", "emailstatus", "statutabonnement", "statutinscription"}},
	{headerRule{role: RoleConsentDate}, []string{"addedtime", "date", "dateinscription",
		"datedinscription", "inscritle", "created", "createdat", "creationdate",
		"datecreation", "datedecreation", "subscribedat", "subscriptiondate", "dateajout",
		"datedajout", "consentdate", "dateconsentement", "dateduconsentement",
		"optindate", "dateoptin", "signupdate", "consentat", "dateadded", "addedat", "addeddate",
		"joindate", "joinedat", "datesignup"}},
	{headerRule{role: RoleFlag, ifYes: StatusUnsubscribed}, []string{"blacklisted",
		"emailblacklisted", "blackliste", "blacklistee", "unsubscribed", "unsubscribe",
		"desinscrit", "desinscrite", "desabonne", "desabonnee", "optout", "optedout",
		"listenoire"}},
	{headerRule{role: RoleFlag, ifYes: StatusBounced}, []string{"bounced", "bounce",
		"hardbounce", "hardbounced", "npai"}},
	{headerRule{role: RoleFlag, ifYes: StatusComplained}, []string{"complained",
		"complaint", "spam", "plainte"}},
	// A yes/no "subscribed" column: a "no" must not import the person as
	// active. SendinBlue's OPT_IN and DOUBLE_OPT-IN are deliberately absent:
	// they record how a contact arrived, and "No" there does not mean the
	// person left.
	{headerRule{role: RoleFlag, ifYes: StatusActive, ifNo: StatusUnsubscribed},
		[]string{"subscribed", "abonne", "abonnee", "inscrit", "inscrite"}},
	// SendinBlue columns that mean nothing for e-mail in Bulletin, and the
	// bookkeeping columns of Bulletin's own export, which a re-import must
	// not turn into attributes.
	{headerRule{role: RoleIgnored}, []string{"smsblacklisted", "modifiedtime",
		"statuschangedat", "consentsource", "consentip"}},
}

// headerRules indexes headerGroups by folded header.
var headerRules = func() map[string]headerRule {
	m := map[string]headerRule{}
	for _, g := range headerGroups {
		for _, n := range g.names {
			m[n] = g.rule
		}
	}
	return m
}()

// statusWords maps folded status values to statuses.
var statusWords = func() map[string]string {
	m := map[string]string{}
	add := func(status string, words ...string) {
		for _, w := range words {
			m[w] = status
		}
	}
	add(StatusActive, "active", "actif", "actifs", "abonne", "abonnee", "subscribed",
		"subscriber", "inscrit", "inscrite", "optin", "ok",
		// A soft bounce is a temporary failure: the address stays subscribed.
		"softbounce", "softbounced")
	add(StatusUnsubscribed, "unsubscribed", "unsubscribe", "desabonne", "desabonnee",
		"desinscrit", "desinscrite", "desinscription", "blacklisted", "blackliste",
		"blacklistee", "optout", "optedout", "listenoire")
	add(StatusBounced, "bounced", "bounce", "hardbounce", "hardbounced", "rejete",
		"rejetee", "invalide", "invalid", "npai")
	add(StatusComplained, "complained", "complaint", "plainte", "spam", "abuse")
	return m
}()

// flagWords maps folded flag values to true (yes) or false (no). An empty
// cell is a "no": Excel leaves unticked boxes empty.
var flagWords = map[string]bool{
	"yes": true, "y": true, "oui": true, "o": true, "true": true, "vrai": true,
	"1": true, "x": true,
	"no": false, "n": false, "non": false, "false": false, "faux": false, "0": false,
	"": false,
}

// fold reduces a header or a value to the letters and digits that carry its
// meaning: lower case, accents removed, spaces and punctuation dropped.
// "Adresse e-mail", "ADRESSE_EMAIL" and "adresse  email " all fold to
// "adresseemail"; "Désabonné(e)" folds to "desabonnee".
func fold(s string) string {
	var buf [64]byte
	return string(appendFold(buf[:0], s))
}

// appendFold appends the folded s to dst. It exists so that per-row values
// can be folded into a stack buffer and looked up without allocating.
func appendFold(dst []byte, s string) []byte {
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			dst = append(dst, byte(r))
		case 'A' <= r && r <= 'Z':
			dst = append(dst, byte(r-'A'+'a'))
		case r < utf8.RuneSelf:
			// space or punctuation: dropped
		case 0xc0 <= r && r < 0x180:
			dst = append(dst, latinFold[r-0xc0]...)
		default:
			dst = appendFoldRune(dst, r)
		}
	}
	return dst
}

// appendFoldRune folds a rune outside ASCII and Latin-1/Latin Extended-A:
// decomposed (compatibility decomposition, so full-width "Ｅ" is "e" and the
// ligature "ﬁ" is "fi"), its marks dropped, kept if a letter or digit.
func appendFoldRune(dst []byte, r rune) []byte {
	for _, d := range norm.NFKD.String(string(r)) {
		if unicode.IsLetter(d) || unicode.IsDigit(d) {
			dst = utf8.AppendRune(dst, unicode.ToLower(d))
		}
	}
	return dst
}

// latinFold holds the fold of U+00C0-U+017F, where every French letter with
// an accent lives; œ and æ become two letters as a French reader spells them.
var latinFold = func() (t [0x180 - 0xc0]string) {
	for i := range t {
		r := rune(0xc0 + i)
		switch r {
		case 'œ', 'Œ':
			t[i] = "oe"
		case 'æ', 'Æ':
			t[i] = "ae"
		case 'ß':
			t[i] = "ss"
		default:
			t[i] = string(appendFoldRune(nil, r))
		}
	}
	return t
}()

// mapColumns gives each header its role. It fails when no column holds the
// address or when two do, since guessing which one to use would import the
// wrong people.
func mapColumns(headers []string) ([]Column, error) {
	cols := make([]Column, len(headers))
	email, weakEmail := -1, -1
	for i, h := range headers {
		// A header is a cell like the others: an export defuses it
		// (spreadsheet.Defuse) and its attribute name comes back as it was.
		h = cell(h)
		c := Column{Index: i, Header: h}
		rule, ok := headerRules[fold(h)]
		switch {
		case !ok:
			c.Role = RoleAttribute
		case rule.role == RoleEmail && rule.weak:
			if weakEmail < 0 {
				weakEmail = i
			}
			c.Role = RoleAttribute // until we know no strong e-mail column exists
		case rule.role == RoleEmail:
			if email >= 0 {
				return nil, i18n.Errorf("import.file.two_email_columns",
					cols[email].Header, strconv.Itoa(email+1), h, strconv.Itoa(i+1))
			}
			email = i
			c.Role = RoleEmail
		default:
			c.Role, c.IfYes, c.IfNo = rule.role, rule.ifYes, rule.ifNo
		}
		cols[i] = c
	}
	if email < 0 && weakEmail >= 0 {
		email = weakEmail
		cols[email].Role = RoleEmail
	}
	if email < 0 {
		return nil, noEmailColumn(headers)
	}
	for i := range cols {
		if cols[i].Role == RoleAttribute {
			cols[i].Key = cols[i].Header
			if cols[i].Key == "" {
				cols[i].Key = fmt.Sprintf("column %d", i+1)
			}
		}
	}
	return cols, nil
}

// noEmailColumn builds the error for a header line without an address column,
// naming the headers found so that the person sees what went wrong.
func noEmailColumn(headers []string) error {
	quoted := make([]string, len(headers))
	for i, h := range headers {
		quoted[i] = fmt.Sprintf("%q", strings.TrimSpace(h))
	}
	found := strings.Join(quoted, ", ")
	for _, h := range headers {
		if _, err := address.Normalize(h); err == nil {
			return i18n.Errorf("import.file.no_header_line", found)
		}
	}
	return i18n.Errorf("import.file.no_email_column", found)
}

// dateLayouts lists the layouts tried for a consent date, by shape of the
// value. SendinBlue exports "2019-03-14 10:21:05", APIs write RFC 3339, and a
// French spreadsheet writes "14/03/2019", with or without a time. Day first
// is the only reading of "03/04/2019" a French file allows.
var (
	isoSpaceLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05 -0700"}
	isoTLayouts     = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04"}
	frenchLayouts   = []string{"2/1/2006", "2/1/2006 15:04", "2/1/2006 15:04:05", "2-1-2006", "2.1.2006"}
)

// parseDate reads a consent date; a value without a zone is taken in loc.
// Fractional seconds are accepted after the seconds by time.Parse itself.
func parseDate(s string, loc *time.Location) (time.Time, bool) {
	var layouts []string
	switch {
	case len(s) == 10 && s[4] == '-':
		layouts = []string{time.DateOnly}
	case len(s) > 10 && s[4] == '-' && s[10] == 'T':
		layouts = isoTLayouts
	case len(s) > 10 && s[4] == '-' && s[10] == ' ':
		layouts = isoSpaceLayouts
	default:
		layouts = frenchLayouts
	}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
