"""A minimal Django Channels project that talks to Switchyard over one Redis (see test/interop/)."""
