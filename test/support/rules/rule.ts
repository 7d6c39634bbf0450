/**
 * A business rule checked in SQL after a world is loaded into PostgreSQL: the rows it applies
 * to (`from`, a FROM clause over tables named like the entities with `-` as `_`, narrowed by
 * `where`), and `holds`, a boolean SQL expression every one of those rows must satisfy (NULL
 * counts as a violation). `show` lists the columns printed for violating rows.
 */
export interface Rule {
  readonly name: string;
  readonly from: string;
  readonly where?: string;
  readonly holds: string;
  readonly show?: string;
  /** Set when the rule's rows may legitimately be absent in a small world. */
  readonly mayBeEmpty?: boolean;
}

/** The date window of the loaded world, as SQL literals, for time rules. */
export interface WindowSql {
  readonly start: string;
  readonly end: string;
  /** `column` lies inside the window. */
  readonly inWindow: (column: string) => string;
}

/** A named group of rules (a tap subtest each); `rules` may depend on the world's window and locale. */
export interface RuleGroup {
  readonly name: string;
  readonly rules: (window: WindowSql, locale: string) => readonly Rule[];
}
