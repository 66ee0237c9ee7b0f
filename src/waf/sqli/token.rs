//! The token vocabulary shared by the tokenizer and the rules: token types, their
//! attributes and flags, and [`Tok`] itself.

pub(super) const T_STR: u8 = b's';
pub(super) const T_NUM: u8 = b'1';
pub(super) const T_WORD: u8 = b'n';
pub(super) const T_KW: u8 = b'k';
pub(super) const T_UNION: u8 = b'U';
pub(super) const T_STMT: u8 = b'E';
pub(super) const T_CLAUSE: u8 = b'B';
pub(super) const T_LOGIC: u8 = b'&';
pub(super) const T_CMP: u8 = b'=';
pub(super) const T_OP: u8 = b'o';
pub(super) const T_FUNC: u8 = b'f';
pub(super) const T_VAR: u8 = b'v';
pub(super) const T_COMMA: u8 = b',';
pub(super) const T_SEMI: u8 = b';';
pub(super) const T_LP: u8 = b'(';
pub(super) const T_RP: u8 = b')';
pub(super) const T_COMMENT: u8 = b'c';
pub(super) const T_END: u8 = b'$';

// string flags
pub(super) const F_CLOSED: u8 = 1;
pub(super) const F_BREAK: u8 = 2;
/// break-out ended by a backslash-escaped quote read as a plain quote (`admin\' or ...`)
pub(super) const F_BSLASH: u8 = 4;

// word attributes
pub(super) const W_ORDER: u8 = 1;
pub(super) const W_GROUP: u8 = 2;
pub(super) const W_BY: u8 = 3;
pub(super) const W_CATALOG: u8 = 4;
pub(super) const W_STRONG: u8 = 5; // attack-typical function name used without parens
pub(super) const W_SOUNDS: u8 = 6;
pub(super) const W_SIMILAR: u8 = 7;
pub(super) const W_ENGLISHY: u8 = 8; // plain letters only (no `_`, `.`, digits)

// keyword attributes (T_KW)
pub(super) const K_FROM: u8 = 1;
pub(super) const K_INTO: u8 = 2;
pub(super) const K_TABLE: u8 = 3; // TABLE/DATABASE/FUNCTION/PROCEDURE/VIEW/USER/...
pub(super) const K_EXISTS: u8 = 4;
pub(super) const K_ALL: u8 = 5; // ALL/DISTINCT/DISTINCTROW
pub(super) const K_OUTFILE: u8 = 6;
pub(super) const K_DELAY: u8 = 7;
pub(super) const K_VALUES: u8 = 8;
pub(super) const K_WHERE: u8 = 9;
pub(super) const K_IMMEDIATE: u8 = 10;
pub(super) const K_TO: u8 = 11;
pub(super) const K_HAVING: u8 = 12;
pub(super) const K_PROCEDURE: u8 = 13;
pub(super) const K_AS: u8 = 14;
pub(super) const W_ANALYSE: u8 = 9;
pub(super) const W_COLLATE: u8 = 10;
pub(super) const W_GLUED: u8 = 11; // `xunionselectfrom`: UNION SELECT with the spaces removed

// statements (T_STMT)
pub(super) const S_SELECT: u8 = 1;
pub(super) const S_INSERT: u8 = 2;
pub(super) const S_UPDATE: u8 = 3;
pub(super) const S_DELETE: u8 = 4;
pub(super) const S_DDL: u8 = 5; // DROP/CREATE/ALTER/TRUNCATE
pub(super) const S_TRUNCATE: u8 = 6;
pub(super) const S_EXEC: u8 = 7;
pub(super) const S_DECLARE: u8 = 8;
pub(super) const S_SHUTDOWN: u8 = 9;
pub(super) const S_WAITFOR: u8 = 10;
pub(super) const S_WAITFOR_DELAY: u8 = 11;
pub(super) const S_SET: u8 = 12;
pub(super) const S_REPLACE: u8 = 13;
pub(super) const S_CALL: u8 = 14;

// operators (T_OP / T_CMP attr)
pub(super) const O_ARITH: u8 = 1; // + - * / % ^ | & << >> DIV MOD
pub(super) const O_UNARY: u8 = 2; // ~ !
pub(super) const O_NOT: u8 = 3;
pub(super) const O_CAST: u8 = 4; // ::
pub(super) const O_CAST_PG: u8 = 5; // ::int directly attached
pub(super) const O_OTHER: u8 = 6;
pub(super) const O_STAR: u8 = 7;
pub(super) const C_IS: u8 = 1;
pub(super) const C_LIKE: u8 = 2;
pub(super) const C_OTHER: u8 = 3;

// function tiers
pub(super) const FN_STRONG: u8 = 1;
pub(super) const FN_WEAK: u8 = 2;

#[derive(Clone, Copy, Debug)]
pub(super) struct Tok {
    pub(super) t: u8,
    pub(super) a: u8,
    pub(super) f: u8,
    /// a `/* */` comment is glued (no whitespace) between this token and the previous one
    pub(super) g: bool,
    pub(super) s: usize,
    pub(super) e: usize,
}

pub(super) const END: Tok = Tok {
    t: T_END,
    a: 0,
    f: 0,
    g: false,
    s: 0,
    e: 0,
};

pub(super) fn tok(t: u8, a: u8, s: usize, e: usize) -> Tok {
    Tok {
        t,
        a,
        f: 0,
        g: false,
        s,
        e,
    }
}
