package phone

// CheckTarget reports whether Dial could call target, without dialing: the same checks, in the
// same words. haveAccount says whether a bare user name would get the account's domain. The
// front ends check before opening sound devices, so a typo in the target is what the user
// hears about, not a missing microphone.
func CheckTarget(target string, haveAccount bool) error {
	var acc *account
	if haveAccount {
		acc = &account{}
		acc.aor.Host = "account.invalid" // only its presence matters here
	}
	_, err := parseTarget(target, acc)
	return err
}
