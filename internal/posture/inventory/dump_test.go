package inventory

import (
	"context"
	"encoding/json"
	"os"
	"testing"
)

func TestDump(t *testing.T) {
	f, err := os.Open(os.Getenv("DUMP"))
	if err != nil {
		t.Skip()
	}
	defer f.Close()
	imp, r, err := Builtin().Open("", f)
	if err != nil {
		t.Fatal(err)
	}
	err = imp.Import(context.Background(), r, func(res Resource) error {
		b, _ := json.Marshal(res)
		t.Log(string(b))
		return nil
	})
	if err != nil {
		t.Log("ERR", err)
	}
}
