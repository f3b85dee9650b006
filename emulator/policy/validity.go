package policy

import "time"

// Validity says why the key cannot be used at now (ReasonExpired,
// ReasonNotYetValid, ReasonDisabled), or ReasonNone when it can: the same
// verdict Authorize gives. inquir lint uses it to tell a route only inactive
// keys may call (INQ004) and to flag keys past their use (INQ010).
func (k *Key) Validity(now time.Time) Reason { return k.validity(now) }
