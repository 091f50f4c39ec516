/**
 * Control-flow graphs of C functions, built from the syntax tree: if/else, switch with case, default
 * and fall-through, for/while/do-while, kernel iterator macros (parsed as loops, see kernel-idioms.ts),
 * break/continue, goto and labels, return, and calls that never return (BUG(), panic(), BUG_ON() as a
 * conditional exit). Statements the grammar could not parse (ERROR nodes) become plain statements, so a
 * function with parse errors still gets a graph for the parts that parsed.
 *
 * Nodes hold one simple statement or one branch condition: the replay and the context analysis walk
 * the graph and look at `ast` for the events (calls, assignments, uses) of each node, in source order.
 */
import { calleeName, type SyntaxNode } from '../syntax/ast.js';

export type CfgNodeKind = 'entry' | 'exit' | 'abort' | 'statement' | 'branch' | 'return' | 'label';

export interface CfgEdge {
  to: number;
  /** For branches of if/loops: the condition and the value it has on this edge. */
  condition?: SyntaxNode;
  value?: boolean;
  /** For switch edges: the case value text, or 'default'. */
  caseValue?: string;
  /** A loop's back edge (from the end of the body or the update to the loop head). */
  back?: boolean;
}

export interface CfgNode {
  id: number;
  kind: CfgNodeKind;
  /** The statement (statement/return/label) or the condition expression (branch); null for entry/exit/abort. */
  ast: SyntaxNode | null;
  line: number;
  succ: CfgEdge[];
  /** Set on the head node of a loop (its condition, or a synthetic head for `for (;;)`). */
  loopHead?: boolean;
}

export interface Cfg {
  nodes: CfgNode[];
  entry: number;
  /** Normal function exit: every return and the end of the body lead here. */
  exit: number;
  /** Where BUG(), panic() and friends lead: paths ending here are not checked for leaks. */
  abort: number;
}

/** Calls after which control never continues. */
export const NORETURN_CALLS = new Set([
  'BUG', 'panic', 'unreachable', '__builtin_unreachable', 'do_exit', 'kthread_exit', 'make_task_dead',
  'machine_halt', 'machine_power_off', 'emergency_restart', 'BUILD_BUG',
]);
/** BUG_ON(cond): leaves through abort when cond holds. */
const CONDITIONAL_ABORT = new Set(['BUG_ON']);

interface Scope {
  breakTo: number | null;
  continueTo: number | null;
}

class Builder {
  readonly nodes: CfgNode[] = [];
  private readonly labels = new Map<string, number>();

  node(kind: CfgNodeKind, ast: SyntaxNode | null, line: number): CfgNode {
    const n: CfgNode = { id: this.nodes.length, kind, ast, line, succ: [] };
    this.nodes.push(n);
    return n;
  }

  label(name: string, line: number, ast: SyntaxNode | null): number {
    let id = this.labels.get(name);
    if (id === undefined) {
      id = this.node('label', ast, line).id;
      this.labels.set(name, id);
    }
    return id;
  }

  /** Builds `stmt` so that it continues at `next`; returns the id of its first node. */
  build(stmt: SyntaxNode, next: number, scope: Scope, exit: number, abort: number): number {
    switch (stmt.type) {
      case 'compound_statement':
        return this.sequence(stmt.children.filter((c) => c.isNamed && c.type !== 'comment'), next, scope, exit, abort);
      case 'if_statement': {
        const cond = stmt.child('condition')!;
        const b = this.node('branch', cond, cond.line);
        const then = this.build(stmt.child('consequence')!, next, scope, exit, abort);
        const alt = stmt.child('alternative');
        const els = alt ? this.build(alt.type === 'else_clause' ? alt.namedChildren[0] ?? alt : alt, next, scope, exit, abort) : next;
        b.succ.push({ to: then, condition: cond, value: true }, { to: els, condition: cond, value: false });
        return b.id;
      }
      case 'while_statement': {
        const cond = stmt.child('condition')!;
        const head = this.node('branch', cond, stmt.line);
        head.loopHead = true;
        const body = this.buildBody(stmt.child('body'), head.id, { breakTo: next, continueTo: head.id }, exit, abort);
        head.succ.push({ to: body, condition: cond, value: true }, { to: next, condition: cond, value: false });
        return head.id;
      }
      case 'do_statement': {
        const cond = stmt.child('condition')!;
        const tail = this.node('branch', cond, cond.line);
        const body = this.buildBody(stmt.child('body'), tail.id, { breakTo: next, continueTo: tail.id }, exit, abort);
        const head = this.nodes[body];
        // `do { ... } while (0)` is the kernel's statement macro: its condition never loops back.
        const once = /^\(\s*0\s*\)$/.test(cond.text);
        tail.succ.push({ to: next, condition: cond, value: false });
        if (!once) {
          tail.succ.push({ to: body, condition: cond, value: true, back: true });
          head.loopHead = true;
        }
        return body;
      }
      case 'for_statement': {
        const cond = stmt.child('condition');
        const head = cond ? this.node('branch', cond, stmt.line) : this.node('statement', null, stmt.line);
        head.loopHead = true;
        const updates = stmt.childrenOf('update');
        let continueTo = head.id;
        for (let i = updates.length - 1; i >= 0; i--) {
          const u = this.node('statement', updates[i], updates[i].line);
          u.succ.push({ to: continueTo, back: true });
          continueTo = u.id;
        }
        const body = this.buildBody(stmt.child('body'), continueTo, { breakTo: next, continueTo }, exit, abort);
        if (cond) head.succ.push({ to: body, condition: cond, value: true }, { to: next, condition: cond, value: false });
        else head.succ.push({ to: body });
        const init = stmt.child('initializer');
        if (!init) return head.id;
        const i = this.node('statement', init, init.line);
        i.succ.push({ to: head.id });
        return i.id;
      }
      case 'switch_statement': {
        const cond = stmt.child('condition')!;
        const sw = this.node('branch', cond, cond.line);
        const body = stmt.child('body');
        const items = body ? body.children.filter((c) => c.isNamed && c.type !== 'comment') : [];
        const inner: Scope = { breakTo: next, continueTo: scope.continueTo };
        // Right to left, so each case falls through into the next one.
        let fall = next;
        let hasDefault = false;
        const entries: Array<{ to: number; caseValue: string }> = [];
        let pending: SyntaxNode[] = [];
        for (let i = items.length - 1; i >= 0; i--) {
          const item = items[i];
          if (item.type !== 'case_statement') {
            pending.unshift(item);
            continue;
          }
          const value = item.child('value');
          const stmts = item.children.filter((c) => c.isNamed && c.type !== 'comment' && c !== value);
          fall = this.sequence([...stmts, ...pending], fall, inner, exit, abort);
          pending = [];
          if (!value) hasDefault = true;
          entries.unshift({ to: fall, caseValue: value ? value.text : 'default' });
        }
        for (const e of entries) sw.succ.push({ to: e.to, condition: cond, caseValue: e.caseValue });
        if (!hasDefault) sw.succ.push({ to: next, condition: cond, caseValue: 'default' });
        return sw.id;
      }
      case 'return_statement': {
        const r = this.node('return', stmt, stmt.line);
        r.succ.push({ to: exit });
        return r.id;
      }
      case 'break_statement':
        return scope.breakTo ?? next;
      case 'continue_statement':
        return scope.continueTo ?? next;
      case 'goto_statement': {
        const label = stmt.child('label');
        return label ? this.label(label.text, stmt.line, null) : next;
      }
      case 'labeled_statement': {
        const label = stmt.child('label')!;
        const id = this.label(label.text, stmt.line, label);
        const l = this.nodes[id];
        l.line = stmt.line;
        l.ast = label;
        const inner = stmt.namedChildren.filter((c) => c !== label);
        l.succ = [{ to: this.sequence(inner, next, scope, exit, abort) }];
        return id;
      }
      case 'expression_statement': {
        const expr = stmt.namedChildren[0];
        if (!expr) return next; // a lone `;`
        const call = expr.type === 'call_expression' ? calleeName(expr) : null;
        const n = this.node('statement', stmt, stmt.line);
        if (call && NORETURN_CALLS.has(call)) n.succ.push({ to: abort });
        else if (call && CONDITIONAL_ABORT.has(call)) {
          n.kind = 'branch';
          const cond = expr.child('arguments')!;
          n.ast = cond;
          n.succ.push({ to: abort, condition: cond, value: true }, { to: next, condition: cond, value: false });
        } else n.succ.push({ to: next });
        return n.id;
      }
      default: {
        // Declarations, ERROR nodes and anything unexpected: one plain statement.
        const n = this.node('statement', stmt, stmt.line);
        n.succ.push({ to: next });
        return n.id;
      }
    }
  }

  private buildBody(body: SyntaxNode | null, next: number, scope: Scope, exit: number, abort: number): number {
    if (!body) return next;
    const entry = this.build(body, next, scope, exit, abort);
    return entry;
  }

  sequence(stmts: SyntaxNode[], next: number, scope: Scope, exit: number, abort: number): number {
    let n = next;
    for (let i = stmts.length - 1; i >= 0; i--) n = this.build(stmts[i], n, scope, exit, abort);
    return n;
  }
}

/** Builds the CFG of a function body (a compound_statement). */
export function buildCfg(body: SyntaxNode): Cfg {
  const b = new Builder();
  const entry = b.node('entry', null, body.line);
  const exit = b.node('exit', null, body.endLine);
  const abort = b.node('abort', null, body.endLine);
  entry.succ.push({ to: b.build(body, exit.id, { breakTo: null, continueTo: null }, exit.id, abort.id) });
  // Mark edges into loop heads from inside their loops as back edges, where the builder could not.
  markBackEdges(b.nodes, entry.id);
  return { nodes: b.nodes, entry: entry.id, exit: exit.id, abort: abort.id };
}

/** A DFS marks every edge to a node on the current DFS stack as a back edge (loops made of gotos too). */
function markBackEdges(nodes: CfgNode[], entry: number): void {
  const state = new Uint8Array(nodes.length); // 0 new, 1 on stack, 2 done
  const stack: Array<{ id: number; i: number }> = [{ id: entry, i: 0 }];
  state[entry] = 1;
  while (stack.length) {
    const top = stack[stack.length - 1];
    const n = nodes[top.id];
    if (top.i >= n.succ.length) {
      state[top.id] = 2;
      stack.pop();
      continue;
    }
    const e = n.succ[top.i++];
    if (state[e.to] === 1) {
      e.back = true;
      nodes[e.to].loopHead = true;
    } else if (state[e.to] === 0) {
      state[e.to] = 1;
      stack.push({ id: e.to, i: 0 });
    }
  }
}

/** Nodes reachable from the entry, for checks that must ignore dead code. */
export function reachable(cfg: Cfg): Set<number> {
  const seen = new Set<number>([cfg.entry]);
  const work = [cfg.entry];
  while (work.length) for (const e of cfg.nodes[work.pop()!].succ) if (!seen.has(e.to)) seen.add(e.to), work.push(e.to);
  return seen;
}
