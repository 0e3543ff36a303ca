//! One test per construct of every tier, plus operator precedence.

use super::check;

// ----- Tier 1: core --------------------------------------------------------

#[test]
fn fn_with_block_body() {
    check(
        "fn add(a: i64, b: i64) -> i64:\n    return a + b\n",
        "(fn add (param a i64) (param b i64) -> i64 (block (return (+ a b))))",
    );
}

#[test]
fn fn_with_expression_body() {
    check("fn f() -> i64: 1", "(fn f -> i64 (block 1))");
    check("fn square(x: f64) -> f64: x * x", "(fn square (param x f64) -> f64 (block (* x x)))");
}

#[test]
fn fn_with_default_parameter_and_no_return_type() {
    check(
        "fn greet(name: str, punct: str = \"!\"):\n    println(\"hello, {name}{punct}\")\n",
        r#"
        (fn greet
          (param name str)
          (param punct str = "!")
          (block (call println (str "hello, " (interp name) (interp punct)))))
        "#,
    );
}

#[test]
fn fn_parameters_trailing_comma_over_lines() {
    check("fn f(\n    a: i64,\n    b: i64,\n):\n    nil\n", "(fn f (param a i64) (param b i64) (block nil))");
}

#[test]
fn nested_fn_is_an_item_statement() {
    check(
        "fn outer():\n    fn inner() -> i64: 1\n    inner()\n",
        "(fn outer (block (fn inner -> i64 (block 1)) (call inner)))",
    );
}

#[test]
fn const_item() {
    check("const LIMIT: i64 = 1000", "(const LIMIT : i64 1000)");
    check("const TWICE = LIMIT * 2", "(const TWICE (* LIMIT 2))");
}

#[test]
fn let_forms() {
    check(
        "let x = 10\nlet mut i = 0\nval name = \"ada\"\nvar total: i64 = 0\nvar y = 1\nlet z: i64\n",
        r#"
        (let x 10)
        (let mut i 0)
        (let name "ada")
        (let mut total : i64 0)
        (let mut y 1)
        (let z : i64)
        "#,
    );
}

#[test]
fn assignment_and_compound_assignment() {
    check(
        "i = 1\ni += 1\ni -= 1\ni *= 2\ni /= 2\ni %= 2\ni //= 2\ni **= 2\ni &= 1\ni |= 1\ni ^= 1\ni <<= 1\ni >>= 1\n",
        "
        (= i 1)
        (+= i 1)
        (-= i 1)
        (*= i 2)
        (/= i 2)
        (%= i 2)
        (//= i 2)
        (**= i 2)
        (&= i 1)
        (|= i 1)
        (^= i 1)
        (<<= i 1)
        (>>= i 1)
        ",
    );
}

#[test]
fn main_assignment_is_a_statement() {
    check("main = 3", "(= main 3)");
}

#[test]
fn if_elif_else_statement() {
    check(
        "if x < 0:\n    a()\nelif x == 0:\n    b()\nelse:\n    c()\n",
        "(if (< x 0) (block (call a)) (elif (== x 0) (block (call b))) (else (block (call c))))",
    );
}

#[test]
fn if_with_inline_bodies() {
    check("if x < 0: return -x", "(if (< x 0) (block (return (- x))))");
    check("if c: a()\nelse: b()\n", "(if c (block (call a)) (else (block (call b))))");
    check(
        "if c: a()\nelif d: b()\nelse: c()\n",
        "(if c (block (call a)) (elif d (block (call b))) (else (block (call c))))",
    );
}

#[test]
fn if_expression_inline() {
    check("let s = if n < 0: -1 else: 1", "(let s (if (< n 0) (block (- 1)) (else (block 1))))");
}

#[test]
fn if_expression_with_blocks_ends_at_dedent() {
    check(
        "let s = if c:\n    1\nelse:\n    2\n-x\n",
        "
        (let s (if c (block 1) (else (block 2))))
        (- x)
        ",
    );
}

#[test]
fn parenthesised_if_expression() {
    check("let y = (if a: 1 else: 2) + 3", "(let y (+ (if a (block 1) (else (block 2))) 3))");
}

#[test]
fn else_if_is_a_nested_if() {
    check("if a: 1\nelse if b: 2\n", "(if a (block 1) (else (block (if b (block 2)))))");
}

#[test]
fn while_loop_break_continue() {
    check(
        "while i < 10:\n    i += 1\n    if i == 5: continue\n    loop:\n        break\n",
        "(while (< i 10) (block (+= i 1) (if (== i 5) (block (continue))) (loop (block (break)))))",
    );
    check("while c: i += 1", "(while c (block (+= i 1)))");
}

#[test]
fn for_loops() {
    check(
        "for i in range(n):\n    f(i)\nfor i in a..b: f(i)\nfor i in a..=b: f(i)\n",
        "
        (for i in (call range n) (block (call f i)))
        (for i in (.. a b) (block (call f i)))
        (for i in (..= a b) (block (call f i)))
        ",
    );
}

#[test]
fn return_with_and_without_value() {
    check("fn f():\n    return\n", "(fn f (block (return)))");
    check("fn f() -> i64:\n    return 1\n", "(fn f -> i64 (block (return 1)))");
}

#[test]
fn calls_with_named_arguments() {
    check("greet(\"bo\", punct: \"?\",)", r#"(call greet "bo" punct: "?")"#);
}

#[test]
fn literals() {
    check(
        "f(42, 1_000_000, 0xff, 0o17, 0b1010, 3.14, 2.5e-3, 1e9, 1.0, true, false, nil, \"s\", 'raw\\n')",
        r#"(call f 42 1000000 255 15 10 3.14 0.0025 1000000000.0 1.0 true false nil "s" "raw\\n")"#,
    );
}

#[test]
fn min_int_literal_is_negated_magnitude() {
    check("x = -9223372036854775808", "(= x (- 9223372036854775808))");
}

#[test]
fn interpolation_with_spec_and_nested_string() {
    check(
        r#"s = "{x:.9f} {n:>8} {{lit}} {"a" + b}""#,
        r#"(= s (str (interp x ".9f") " " (interp n ">8") " {lit} " (interp (+ "a" b))))"#,
    );
}

#[test]
fn comments_and_blank_lines() {
    check("# header\n\nx = 1  # trailing\n\n\n# between\ny = 2\n", "(= x 1)\n(= y 2)");
}

// ----- Precedence ------------------------------------------------------------

#[test]
fn arithmetic_precedence() {
    check("x = 1 + 2 * 3 - 4 / 5 % 6 // 7", "(= x (- (+ 1 (* 2 3)) (// (% (/ 4 5) 6) 7)))");
}

#[test]
fn power_is_right_associative_and_binds_tighter_than_unary_minus() {
    check("x = 2 ** 3 ** 2", "(= x (** 2 (** 3 2)))");
    check("x = -2 ** 2", "(= x (- (** 2 2)))");
    check("x = 2 ** -1", "(= x (** 2 (- 1)))");
    check("x = 2 ** 3 * 4", "(= x (* (** 2 3) 4))");
}

#[test]
fn as_binds_tighter_than_power_and_unary() {
    check("x = a ** b as f64", "(= x (** a (as b f64)))");
    check("x = -a as f64", "(= x (- (as a f64)))");
    check("x = a as i64 + 1", "(= x (+ (as a i64) 1))");
    check("x = a as f64 as i64", "(= x (as (as a f64) i64))");
}

#[test]
fn bitwise_and_shift_precedence() {
    check("x = a | b ^ c & d << 1 + 2", "(= x (| a (^ b (& c (<< d (+ 1 2))))))");
    check("x = ~a & b", "(= x (& (~ a) b))");
}

#[test]
fn range_binds_looser_than_bitor() {
    check("x = a | b..c + 1", "(= x (.. (| a b) (+ c 1)))");
}

#[test]
fn comparisons_single_and_chained() {
    check("x = a < b", "(= x (< a b))");
    check("x = a < b <= c", "(= x (chain a < b <= c))");
    check("x = 0 <= i < n > m", "(= x (chain 0 <= i < n > m))");
    check("x = a == b != c", "(= x (!= (== a b) c))");
    check("x = a < b == c < d", "(= x (== (< a b) (< c d)))");
}

#[test]
fn logical_precedence() {
    check("x = not a == b and c or d", "(= x (or (and (not (== a b)) c) d))");
    check("x = !a && b || c", "(= x (or (and (not a) b) c))");
    check("x = a or b and not c", "(= x (or a (and b (not c))))");
}

#[test]
fn coalesce_is_loosest_and_right_associative() {
    check("x = a ?? b or c", "(= x (?? a (or b c)))");
    check("x = a ?? b ?? c", "(= x (?? a (?? b c)))");
}

#[test]
fn membership_and_is() {
    check("x = k in d and k not in e", "(= x (and (in k d) (not in k e)))");
    check("x = not k in d", "(= x (not (in k d)))");
    check("x = s is Shape::Empty or s is Shape::Circle(r)", "(= x (or (is s Shape::Empty) (is s (Shape::Circle r))))");
}

#[test]
fn postfix_chains() {
    check("x = a.b(1)[2].c[1:](3)", "(= x (call (slice (. (index (call (. a b) 1) 2) c) 1 _) 3))");
    check("x = t.0.1", "(= x (. (. t 0) 1))");
    check("x = -a.b ** 2", "(= x (- (** (. a b) 2)))");
}

// ----- Tier 2: data ----------------------------------------------------------

#[test]
fn struct_with_fields_defaults_and_methods() {
    check(
        "struct Point:\n    x: f64\n    pub y: f64 = 0.0\n\n    fn norm(self) -> f64: sqrt(self.x * self.x)\n    pub fn scale(mut self, k: f64):\n        self.x *= k\n",
        "
        (struct Point
          (field x f64)
          (field pub y f64 = 0.0)
          (fn norm (param self) -> f64 (block (call sqrt (* (. self x) (. self x)))))
          (pub fn scale (param mut self) (param k f64) (block (*= (. self x) k))))
        ",
    );
}

#[test]
fn class_and_impl_with_static_fn() {
    check(
        "class Account:\n    owner: str\n    balance: i64\n\nimpl Account:\n    fn deposit(self, amount: i64): self.balance += amount\n    static fn open(owner: str) -> Account: Account(owner: owner, balance: 0)\n",
        "
        (class Account (field owner str) (field balance i64))
        (impl Account
          (fn deposit (param self) (param amount i64) (block (+= (. self balance) amount)))
          (static fn open (param owner str) -> Account (block (call Account owner: owner balance: 0))))
        ",
    );
}

#[test]
fn enum_variants_and_methods() {
    check(
        "enum Shape:\n    Circle(r: f64)\n    Rect(w: f64, h: f64)\n    Pair(i64, i64)\n    Empty\n\n    fn name(self) -> str: \"shape\"\n",
        r#"
        (enum Shape
          (variant Circle (r f64))
          (variant Rect (w f64) (h f64))
          (variant Pair i64 i64)
          (variant Empty)
          (fn name (param self) -> str (block "shape")))
        "#,
    );
}

#[test]
fn construction_forms() {
    check(
        "a = Point(x: 1.0, y: 2.0)\nb = Point { x: 1.0, y: 2.0 }\nc = Shape::Circle(1.0)\nd = Shape.Circle(r: 1.0)\ne = geometry.Point { x, y }\nf = Shape::Rect { w: 1.0, h: 2.0 }\n",
        "
        (= a (call Point x: 1.0 y: 2.0))
        (= b (struct-lit Point x: 1.0 y: 2.0))
        (= c (call Shape::Circle 1.0))
        (= d (call (. Shape Circle) r: 1.0))
        (= e (struct-lit geometry::Point x: x y: y))
        (= f (struct-lit Shape::Rect w: 1.0 h: 2.0))
        ",
    );
}

#[test]
fn lowercase_name_before_brace_is_not_a_struct_literal() {
    // `x {` can only be an error: Simple has no brace blocks.
    let parse = super::parse("if x {}:\n    y\n");
    assert!(!parse.errors.is_empty());
}

#[test]
fn match_with_case_arms() {
    check(
        "fn area(s: Shape) -> f64:\n    match s:\n        case Shape::Circle(r): 3.14159 * r * r\n        case Shape::Rect(w, h): w * h\n        case Shape::Empty: 0.0\n",
        "
        (fn area
          (param s Shape) -> f64
          (block
            (match s
              (case (Shape::Circle r) (block (* (* 3.14159 r) r)))
              (case (Shape::Rect w h) (block (* w h)))
              (case Shape::Empty (block 0.0)))))
        ",
    );
}

#[test]
fn match_arms_with_guards_and_blocks() {
    check(
        "match n:\n    case x if x > 0:\n        print(x)\n        x\n    case _: 0\n",
        "(match n (case x (if (> x 0)) (block (call print x) x)) (case _ (block 0)))",
    );
}

#[test]
fn match_fat_arrow_arms() {
    check(
        "let r = match n:\n    0 => \"zero\"\n    1 | 2 => \"small\"\n    x if x > 100 => \"big\"\n    _ =>\n        \"other\"\n",
        r#"
        (let r
          (match n
            (case 0 (block "zero"))
            (case (| 1 2) (block "small"))
            (case x (if (> x 100)) (block "big"))
            (case _ (block "other"))))
        "#,
    );
}

#[test]
fn every_pattern_form() {
    check(
        "match v:\n    case 1: a\n    case -1: a\n    case 2.5: a\n    case \"s\": a\n    case true: a\n    case nil: a\n    case _: a\n    case x: a\n    case mut y: a\n    case 1 | 2 | 3: a\n    case (p, _, (q, r)): a\n    case Shape::Circle(r): a\n    case Shape::Rect(w: a, h: b): a\n    case Point(x: 0.0, y: y): a\n    case Shape::Empty: a\n    case Shape.Empty: a\n    case 1..9: a\n    case 1..=9: a\n    case -9..=-1: a\n    case (): a\n",
        r#"
        (match v
          (case 1 (block a))
          (case (- 1) (block a))
          (case 2.5 (block a))
          (case "s" (block a))
          (case true (block a))
          (case nil (block a))
          (case _ (block a))
          (case x (block a))
          (case (mut y) (block a))
          (case (| 1 2 3) (block a))
          (case (tuple p _ (tuple q r)) (block a))
          (case (Shape::Circle r) (block a))
          (case (Shape::Rect w: a h: b) (block a))
          (case (Point x: 0.0 y: y) (block a))
          (case Shape::Empty (block a))
          (case Shape::Empty (block a))
          (case (.. 1 9) (block a))
          (case (..= 1 9) (block a))
          (case (..= (- 9) (- 1)) (block a))
          (case (tuple) (block a)))
        "#,
    );
}

#[test]
fn tuples_and_destructuring() {
    check(
        "let t = (1, \"a\")\nlet (a, b) = t\nlet one = (1,)\nlet unit = ()\nx = t.0 + t[0]\n(a, b) = (b, a)\n",
        r#"
        (let t (tuple 1 "a"))
        (let (tuple a b) t)
        (let one (tuple 1))
        (let unit (tuple))
        (= x (+ (. t 0) (index t 0)))
        (= (tuple a b) (tuple b a))
        "#,
    );
}

#[test]
fn lists_slices_and_dicts() {
    check(
        "xs = [1, 2, 3,]\ne = []\ny = xs[i] + xs[a:b] + xs[:b] + xs[a:] + xs[:]\nd = {\"a\": 1, \"b\": 2,}\nn = {}\nd[k] = v\n",
        r#"
        (= xs (list 1 2 3))
        (= e (list))
        (= y (+ (+ (+ (+ (index xs i) (slice xs a b)) (slice xs _ b)) (slice xs a _)) (slice xs _ _)))
        (= d (dict ("a" 1) ("b" 2)))
        (= n (dict))
        (= (index d k) v)
        "#,
    );
}

#[test]
fn multi_line_literals() {
    check("xs = [\n    1,\n    2,\n]\nd = {\n    \"a\": 1,\n}\n", "(= xs (list 1 2))\n(= d (dict (\"a\" 1)))");
}

#[test]
fn compound_assignment_to_places() {
    check("d[k] += 1\nxs[i] -= 1\nobj.f *= 2\n", "(+= (index d k) 1)\n(-= (index xs i) 1)\n(*= (. obj f) 2)");
}

#[test]
fn optionals_if_let_while_let_coalesce() {
    check(
        "if let v = opt:\n    use(v)\nelse:\n    none()\nwhile let v = it.next(): use(v)\nx = opt ?? 3\ny = opt.unwrap()\n",
        "
        (if let v opt (block (call use v)) (else (block (call none))))
        (while let v (call (. it next)) (block (call use v)))
        (= x (?? opt 3))
        (= y (call (. opt unwrap)))
        ",
    );
}

#[test]
fn if_let_with_elif_chain() {
    check(
        "if let v = a: 1\nelif c: 2\nelse: 3\n",
        "(if let v a (block 1) (else (block (if c (block 2) (else (block 3))))))",
    );
}

#[test]
fn imports() {
    check(
        "import geometry\nimport util.strings\nimport util.strings as s\nfrom geometry import area, Point\nfrom a.b import x, y as z\nfrom m import (p, q,)\n",
        "
        (import geometry)
        (import util.strings)
        (import util.strings as s)
        (from geometry import area Point)
        (from a.b import x (y as z))
        (from m import p q)
        ",
    );
}

#[test]
fn pub_items() {
    check(
        "pub fn f(): nil\npub struct P:\n    x: i64\npub const C = 1\npub enum E:\n    A\n",
        "
        (pub fn f (block nil))
        (pub (struct P (field x i64)))
        (pub (const C 1))
        (pub (enum E (variant A)))
        ",
    );
}

#[test]
fn types() {
    check(
        "fn f(a: i64, b: geometry.Point, c: [str], d: {str: i64}, e: i64?, f: (i64, str), g: fn(i64) -> i64, h: Pair[A, B], i: (), j: fn()) -> [i64?]?: nil",
        "
        (fn f
          (param a i64)
          (param b geometry.Point)
          (param c [str])
          (param d {str: i64})
          (param e i64?)
          (param f (i64, str))
          (param g fn(i64) -> i64)
          (param h Pair[A, B])
          (param i ())
          (param j fn()) -> [i64?]?
          (block nil))
        ",
    );
}

#[test]
fn type_alias() {
    check("type Meters = f64\ntype Table = {str: [i64]}\n", "(type Meters = f64)\n(type Table = {str: [i64]})");
}

// ----- Tier 3: abstraction ---------------------------------------------------

#[test]
fn trait_with_signatures_and_defaults() {
    check(
        "trait Shape:\n    fn area(self) -> f64\n    fn describe(self) -> str:\n        return \"shape\"\n",
        r#"
        (trait Shape
          (fn area (param self) -> f64)
          (fn describe (param self) -> str (block (return "shape"))))
        "#,
    );
}

#[test]
fn impl_trait_for_type_and_generic_impl() {
    check(
        "impl Shape for Circle:\n    fn area(self) -> f64: self.r\nimpl[T: Show] Show for List[T]:\n    fn show(self) -> str: \"\"\n",
        r#"
        (impl Shape for Circle (fn area (param self) -> f64 (block (. self r))))
        (impl (generics (T Show)) Show for List[T] (fn show (param self) -> str (block "")))
        "#,
    );
}

#[test]
fn generic_functions_and_types() {
    check(
        "fn total[T: Shape + Show, U](xs: [T]) -> f64: 0.0\nstruct Pair[A, B]:\n    first: A\n    second: B\nenum Result[T, E]:\n    Ok(T)\n    Err(E)\n",
        "
        (fn total (generics (T Shape Show) U) (param xs [T]) -> f64 (block 0.0))
        (struct Pair (generics A B) (field first A) (field second B))
        (enum Result (generics T E) (variant Ok T) (variant Err E))
        ",
    );
}

#[test]
fn dyn_trait_objects() {
    check("let shapes: [dyn Shape] = []", "(let shapes : [dyn Shape] (list))");
}

#[test]
fn lambdas() {
    check(
        "f = \\x: x * 2\ng = \\a, b: a + b\nh = \\: 42\nk = \\(x: i64) -> i64: x + 1\nm = xs.fold(0, \\acc, x: acc + x)\n",
        "
        (= f (lambda (param x) (block (* x 2))))
        (= g (lambda (param a) (param b) (block (+ a b))))
        (= h (lambda (block 42)))
        (= k (lambda (param x i64) -> i64 (block (+ x 1))))
        (= m (call (. xs fold) 0 (lambda (param acc) (param x) (block (+ acc x)))))
        ",
    );
}

#[test]
fn function_types() {
    check("let apply: fn(i64) -> i64 = f", "(let apply : fn(i64) -> i64 f)");
}

#[test]
fn trailing_block_lambda() {
    check(
        "xs.each \\x:\n    print(x)\n    print(x * 2)\nys = xs.map(f) \\x:\n    x + 1\nnext()\n",
        "
        (call (. xs each) (lambda (param x) (block (call print x) (call print (* x 2)))))
        (= ys (call (. xs map) f (lambda (param x) (block (+ x 1)))))
        (call next)
        ",
    );
}

#[test]
fn functional_update() {
    check("data->normalize()\ndata->scale(2.0, by: 3)\n", "(-> data normalize)\n(-> data scale 2.0 by: 3)");
}

// ----- Tier 4: ownership -----------------------------------------------------

#[test]
fn pointer_allocations() {
    check(
        "let u = new(&) Node(1)\nlet s = new* Node(2)\nlet h = new+ Node(3)\n",
        "
        (let u (new(&) (call Node 1)))
        (let s (new* (call Node 2)))
        (let h (new+ (call Node 3)))
        ",
    );
}

#[test]
fn pointer_types() {
    check(
        "fn f(a: &Node, b: *Node, c: -Node, d: +Node, e: &mut Node, g: *Node?, h: &&Node): nil",
        "
        (fn f
          (param a &Node)
          (param b *Node)
          (param c -Node)
          (param d +Node)
          (param e &mut Node)
          (param g *Node?)
          (param h &&Node)
          (block nil))
        ",
    );
}

#[test]
fn borrows_and_moves() {
    check("a = &x\nb = &mut x.y\ntake(move u)\n", "(= a (& x))\n(= b (&mut (. x y)))\n(call take (move u))");
}

#[test]
fn handle_pool() {
    check("handle_pool Node: capacity: 16", "(handle_pool Node (capacity 16))");
    check("handle_pool Node:\n    capacity: 16\n", "(handle_pool Node (capacity 16))");
}

// ----- Tier 5: concurrency ---------------------------------------------------

#[test]
fn actor_with_state_and_handlers() {
    check(
        "actor Counter:\n    state:\n        count: i64 = 0\n    on Inc(n: i64):\n        count += n\n    on Get() -> i64: count\n    fn helper(self): nil\n",
        "
        (actor Counter
          (state (field count i64 = 0))
          (on Inc (param n i64) (block (+= count n)))
          (on Get -> i64 (block count))
          (fn helper (param self) (block nil)))
        ",
    );
}

#[test]
fn spawn_send_and_ask() {
    check(
        "let h = spawn Counter()\nsend h, Inc(1)\nlet r = h.ask(Get())\nlet w = spawn worker(x)\nsend(h, value)\n",
        "
        (let h (spawn (call Counter)))
        (send h (call Inc 1))
        (let r (call (. h ask) (call Get)))
        (let w (spawn (call worker x)))
        (call send h value)
        ",
    );
}

#[test]
fn send_is_contextual() {
    check(
        "send = 1\nsend.x = 2\nx = send - 1\nsend h, m\n",
        "
        (= send 1)
        (= (. send x) 2)
        (= x (- send 1))
        (send h m)
        ",
    );
}

#[test]
fn extern_fn() {
    check("extern fn c_abs(x: i64) -> i64", "(extern fn c_abs (param x i64) -> i64)");
}

#[test]
fn keyword_method_names() {
    check(
        "struct S:\n    fn new() -> S: S()\nx = S.new()\n",
        "(struct S (fn new -> S (block (call S))))\n(= x (call (. S new)))",
    );
}

#[test]
fn optional_types_nest() {
    check("let a: i64? = nil", "(let a : i64? nil)");
    // `??` is one token; in a type it is two optionals.
    check("let b: i64?? = nil", "(let b : i64?? nil)");
    check("let c: [i64?]? = nil", "(let c : [i64?]? nil)");
}
