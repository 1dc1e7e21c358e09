package respond

import "errors"

// joinErrors joins errs; nil when there are none.
func joinErrors(errs []error) error { return errors.Join(errs...) }
