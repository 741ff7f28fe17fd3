//! Integration tests of rskill-scan: the generated hostile and benign corpus, and the
//! bounded memory of a 1 GiB scan (a counting allocator measures the peak).

mod alloc;
mod corpus;
mod memory;
