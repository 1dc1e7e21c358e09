package inventory

// AccountType returns the type of the account pseudo-resource of provider:
// "AWS::::Account" for aws (the type AWS Config and Security Hub use for
// account-level evaluations), "ALIYUN::::Account" for alicloud, and
// "<provider>::::Account" otherwise. Account-level facts that belong to
// no other resource (the root user's MFA and access keys, account-wide
// defaults) are attributes of this resource; account-scope posture rules
// are evaluated on it.
func AccountType(provider string) string {
	switch provider {
	case "aws":
		return "AWS::::Account"
	case "alicloud":
		return "ALIYUN::::Account"
	}
	return provider + "::::Account"
}

// AccountUID returns the uid of the account pseudo-resource:
// AccountType(provider) + ":" + account, e.g. "AWS::::Account:123456789012"
// (Security Hub's resource id for account-level findings).
func AccountUID(provider, account string) string {
	return AccountType(provider) + ":" + account
}

// NewAccount returns the account pseudo-resource of provider and account
// with no attributes.
func NewAccount(provider, account string) *Resource {
	return &Resource{
		Provider:   provider,
		Account:    account,
		Type:       AccountType(provider),
		UID:        AccountUID(provider, account),
		Name:       account,
		Attributes: map[string]any{},
		Source:     "canopy",
	}
}
