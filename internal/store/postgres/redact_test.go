package postgres

import (
	"errors"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://canopy:s3cret@db:5432/canopy?sslmode=require", "postgres://canopy:xxxxx@db:5432/canopy?sslmode=require"},
		{"postgresql://canopy:p%40ss%2Fw@db/canopy", "postgresql://canopy:xxxxx@db/canopy"},
		{"postgres://canopy@db/canopy", "postgres://canopy@db/canopy"},
		{"postgres://db/canopy?user=u&password=s3cret", "postgres://db/canopy?password=xxxxx&user=u"},
		{"postgres://db/canopy?PassWord=s3cret&sslpassword=k3y", "postgres://db/canopy?PassWord=xxxxx&sslpassword=xxxxx"},
		{"POSTGRES://u:s3cret@db/canopy", "postgres://u:xxxxx@db/canopy"},
		{"postgres://u:s3cret@[::1/canopy", "postgres://(unparsable connection string withheld)"},
		{"host=db user=u password=s3cret dbname=canopy", "host=db user=u password=xxxxx dbname=canopy"},
		{"host=db password = 's3 cret' sslpassword=k3y", "host=db password=xxxxx sslpassword=xxxxx"},
		{"host=db user=u", "host=db user=u"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, s := range []string{"s3cret", "s3 cret", "k3y", "p@ss", "p%40ss"} {
				if strings.Contains(got, s) {
					t.Errorf("Redact(%q) = %q still holds %q", tt.in, got, s)
				}
			}
		})
	}
}

func TestScrub(t *testing.T) {
	base := errors.New("base")
	tests := []struct {
		name, conn, msg, want string
	}{
		{"url password", "postgres://u:s3cret@db/x", "cannot connect to u:s3cret@db", "cannot connect to u:xxxxx@db"},
		{"percent-encoded", "postgres://u:p%40ss@db/x", "bad p%40ss and p@ss", "bad xxxxx and xxxxx"},
		{"query password", "postgres://db/x?password=a%2Bb", "saw a+b and a%2Bb", "saw xxxxx and xxxxx"},
		{"keyword/value", `host=db password='it\'s' x=1`, `password='it\'s' or it's`, "password=xxxxx or xxxxx"},
		{"no password", "postgres://u@db/x", "no u@db", "no u@db"},
		{"unparsable", "postgres://u:s3cret@[::1/x", "anything s3cret", "details withheld: the connection string may hold a password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := scrub(errors.Join(errors.New(tt.msg), base), tt.conn)
			if got, _, _ := strings.Cut(err.Error(), "\n"); got != tt.want {
				t.Errorf("scrub = %q, want %q", got, tt.want)
			}
			if !errors.Is(err, base) {
				t.Error("scrub lost the wrapped error")
			}
		})
	}
	if scrub(nil, "x") != nil {
		t.Error("scrub(nil) != nil")
	}
}
