package address_test

import (
	"fmt"

	"bulletin/internal/address"
)

func ExampleNormalize() {
	for _, s := range []string{" <mailto:Jean.Dupont@EXÄMPLE.fr> ", "jean dupont@example.org"} {
		addr, err := address.Normalize(s)
		fmt.Printf("%q %v\n", addr, err)
	}
	// Output:
	// "Jean.Dupont@xn--exmple-cua.fr" <nil>
	// "" invalid address "jean dupont@example.org": space in local part
}

func ExampleKey() {
	fmt.Println(address.Key("Jean.Dupont@example.org") == address.Key("jean.dupont@example.org"))
	// Output: true
}

func ExampleMask() {
	fmt.Println(address.Mask("jeann@example.org"))
	// Output: j***n@e*****e.org
}
