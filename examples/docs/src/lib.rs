//! Code shared by the routes of the docs example (none yet). cargo needs a target in every
//! package, and a nextr app's routes live under `api/`, not `src/`.
