// The example programs of examples/, bundled as text, each with an input
// it is meant for (programs that expect a BOS token get one, "§"). The
// page draws each program's last s-op.
import reverse from "../../examples/reverse.rasp";
import histogram from "../../examples/histogram.rasp";
import sort from "../../examples/sort.rasp";
import mostFrequent from "../../examples/most_frequent.rasp";
import dyck from "../../examples/dyck.rasp";
import addition from "../../examples/addition.rasp";

export const EXAMPLES = [
  { name: "reverse", code: reverse, input: "hello" },
  { name: "histogram", code: histogram, input: "hello" },
  { name: "sort", code: sort, input: "§dbca" },
  { name: "most frequent", code: mostFrequent, input: "§abbcbcc" },
  { name: "Dyck", code: dyck, input: "({[]})(]" },
  { name: "addition", code: addition, input: "95+17" },
];
