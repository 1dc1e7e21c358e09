package correlate_test

import (
	"fmt"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func ExampleEntities() {
	rec := &ocsf.APIActivity{
		API:         ocsf.API{Operation: "StopLogging"},
		Actor:       ocsf.Actor{User: &ocsf.User{UID: "ARN:AWS:iam::123456789012:user/Mallory"}},
		SrcEndpoint: ocsf.NetworkEndpoint{IP: "::ffff:203.0.113.9"},
	}
	rec.Metadata.Product.Name = "CloudTrail"
	for _, e := range correlate.Entities(rec) {
		fmt.Println(e.Kind, e.Value)
	}
	for _, t := range correlate.Tactics(rec) {
		fmt.Println(t.Order, t.ID, t.Name)
	}
	// Output:
	// identity arn:aws:iam::123456789012:user/Mallory
	// ip 203.0.113.9
	// 7 TA0005 Defense Evasion
}
