//! The analysis engine: the algebra that reachability proofs are computed in.

pub mod packet_set;
