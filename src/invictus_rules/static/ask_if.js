"use strict";
// The ask_if trees of the questionnaire export (docs/questionnaire-export.md), evaluated in the
// browser. Shared by the service's interview page (/ui) and the policy-staff workbench: a plain
// script, no build step, no dependencies. Three-valued: true / false / null (unknown); a question
// that is not asked is AskIf.ABSENT, and every test on it is false.
//
//   const askIf = AskIf.evaluator({questions, stateOf, rawValue, today});
//   askIf.visible("strangulation")   // shown once its ask_if holds (not while undecided)
//
// where questions() gives the questionnaire's questions, stateOf(id) "answer", "declined" or
// "unknown", rawValue(question) the form's value or null, and today() the as-of date (YYYY-MM-DD).
const AskIf = (() => {
  const ABSENT = Symbol("not asked");

  function wholeDays(fromIso, toIso) {
    return Math.floor((Date.parse(toIso + "T00:00:00Z") - Date.parse(fromIso + "T00:00:00Z")) / 86400000);
  }

  function wholeYears(fromIso, toIso) {
    // As the engine counts them: a year is complete on its anniversary, so someone born on
    // 29 February completes a year on 1 March in years without one.
    const [by, bm, bd] = fromIso.split("-").map(Number);
    const [ty, tm, td] = toIso.split("-").map(Number);
    return ty - by - (tm < bm || (tm === bm && td < bd) ? 1 : 0);
  }

  function evaluator({questions, stateOf, rawValue, today}) {
    const find = (id) => questions().find((q) => q.id === id);

    function questionValue(id, seen) {
      const question = find(id);
      if (!question) return null;
      if (question.ask_if && evaluate(question.ask_if.tree, seen) === false) return ABSENT;
      return stateOf(id) === "answer" ? rawValue(question) : null;
    }

    function evaluate(node, seen = new Set()) {
      if ("const" in node) return node.const;
      if ("date" in node) return node.date;
      if ("list" in node) return node.list.map((item) => evaluate(item, seen));
      if ("question" in node) return seen.has(node.question) ? null : questionValue(node.question, new Set([...seen, node.question]));
      if ("call" in node) {
        const [first] = node.args;
        const value = first && "question" in first ? evaluate(first, seen) : null;
        switch (node.call) {
          case "answered": return value !== null && value !== ABSENT;
          case "declined": return Boolean(first) && stateOf(first.question) === "declined" && value !== ABSENT;
          case "count": {
            const parts = node.args.map((arg) => evaluate(arg, seen));
            if (parts.length === 1 && Array.isArray(parts[0])) return parts[0].length;
            return parts.some((p) => p === null) ? null : parts.filter((p) => p === true).length;
          }
          case "days_since": return value === null || value === ABSENT ? value : wholeDays(value, today());
          case "years_since": return value === null || value === ABSENT ? value : wholeYears(value, today());
          default: return null; // score, level, critical: decided by the engine
        }
      }
      const args = node.args.map((arg) => evaluate(arg, seen));
      switch (node.op) {
        case "and": return args.some((a) => a === false || a === ABSENT) ? false : args.some((a) => a === null) ? null : true;
        case "or": return args.some((a) => a === true) ? true : args.some((a) => a === null) ? null : false;
        case "not": return args[0] === ABSENT ? true : args[0] === null ? null : !args[0];
        case "neg": return args[0] === null || args[0] === ABSENT ? args[0] : -args[0];
      }
      const [left, right] = args;
      if (left === ABSENT || right === ABSENT) return false;
      if (left === null || right === null) return null;
      const contains = (list, item) => Array.isArray(list) && list.includes(item);
      switch (node.op) {
        case "==": return left === right;
        case "!=": return left !== right;
        case "<": return left < right;
        case "<=": return left <= right;
        case ">": return left > right;
        case ">=": return left >= right;
        case "in": return contains(right, left);
        case "not in": return !contains(right, left);
        case "+": return left + right;
        case "-": return left - right;
        case "*": return left * right;
        case "/": return right === 0 ? null : left / right;
      }
      return null;
    }

    function visible(id) {
      // Shown once its ask_if holds: not while it is still undecided (a gating answer is missing,
      // declined or not known), as the service's next questions do.
      const question = find(id);
      return Boolean(question) && (!question.ask_if || evaluate(question.ask_if.tree) === true);
    }

    return {evaluate, visible};
  }

  return {ABSENT, evaluator, wholeDays, wholeYears};
})();
