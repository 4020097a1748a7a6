//! The counter's tests of its own (no server): the wait estimate against
//! simulated days.

mod simulation;
