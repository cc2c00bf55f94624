package importer_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"bulletin/internal/importer"
)

func ExampleReader() {
	const file = "EMAIL;PRENOM;NOM;EMAIL_BLACKLISTED\n" +
		"jean.dupont@example.org;Jean;Dupont;false\n" +
		"not-an-address;Marie;Durand;false\n" +
		"ines.roussel@example.org;Inès;Roussel;true\n"
	rd, err := importer.NewReader(strings.NewReader(file), "contacts.csv")
	if err != nil {
		fmt.Println(err) // nothing to import
		return
	}
	for _, c := range rd.Columns() {
		fmt.Println(c)
	}
	for {
		row, err := rd.Next()
		var re *importer.RowError
		switch {
		case err == io.EOF:
			return
		case errors.As(err, &re):
			fmt.Println("rejected:", re) // count it and go on
		case err != nil:
			fmt.Println(err) // fatal: change nothing
			return
		default:
			fmt.Printf("%d %s %s %q\n", row.Line, row.Email, row.FirstName, row.Status)
		}
	}
	// Output:
	// EMAIL → email
	// PRENOM → first name
	// NOM → last name
	// EMAIL_BLACKLISTED → unsubscribed flag
	// 2 jean.dupont@example.org Jean ""
	// rejected: line 3: invalid address "not-an-address": missing @
	// 4 ines.roussel@example.org Inès "unsubscribed"
}
