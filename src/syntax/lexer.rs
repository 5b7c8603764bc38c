//! Placeholder: the lexer is being written.
