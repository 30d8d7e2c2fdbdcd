//! Code shared by the stream example's routes (none yet: each route is self-contained).
