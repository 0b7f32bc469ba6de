//! "Seen" both ways (issue 23): each side of a conversation has read it up to a sequence number
//! — the visitor (their widget showed it) and the human agent holding it (their dashboard showed
//! it). One number per side, never per message; it only grows. The other side shows "Seen"
//! under its newest message at or below that number.
use crate::wire::{Author, MessageDto};

/// The message that carries the "Seen" mark: the newest of `mine` at or below `seen` (`None`:
/// none of them was seen yet).
pub fn seen_mark(messages: &[MessageDto], seen: i64, mine: impl Fn(&Author) -> bool) -> Option<i64> {
    messages.iter().rev().find(|m| m.seq <= seen && mine(&m.author)).map(|m| m.seq)
}

/// Whether a reported seq moves a side's mark: beyond the one stored, and not beyond the
/// conversation's newest message (the same rule as the database update).
pub fn advances(stored: i64, reported: i64, last_seq: i64) -> bool {
    reported > stored && reported <= last_seq
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::message as msg;

    #[test]
    fn the_mark_is_on_the_newest_seen_message_of_its_side() {
        let agent = Author::Agent { id: "u".into(), name: "Ann".into() };
        let m = [
            msg(1, Author::Visitor, "t"),
            msg(2, agent.clone(), "t"),
            msg(3, Author::Visitor, "t"),
            msg(4, agent, "t"),
        ];
        let visitor = |a: &Author| *a == Author::Visitor;
        assert_eq!(seen_mark(&m, 0, visitor), None);
        assert_eq!(seen_mark(&m, 2, visitor), Some(1));
        assert_eq!(seen_mark(&m, 9, visitor), Some(3));
        let human = |a: &Author| matches!(a, Author::Agent { .. });
        assert_eq!(seen_mark(&m, 3, human), Some(2));
    }

    #[test]
    fn a_mark_only_moves_forward_and_not_past_the_last_message() {
        assert!(advances(0, 1, 1));
        assert!(!advances(2, 2, 5));
        assert!(!advances(3, 2, 5));
        assert!(!advances(0, 6, 5));
        assert!(!advances(0, -1, 5));
    }
}
