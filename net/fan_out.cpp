#include "net/fan_out.hpp"

#include <asio/post.hpp>

#include "net/frame.hpp"

namespace net {

fan_out::fan_out(asio::io_context& io, size_t max_backlog_bytes,
                 bridge_stats& stats)
  : io_(io), max_backlog_bytes_(max_backlog_bytes), stats_(stats) {
  // nop
}

void fan_out::hand_over(chat::client_link_ptr to, chat::shared_text text) {
  hand_over(line{std::move(to), nullptr, nullptr, std::move(text)});
}

void fan_out::hand_over(chat::link_group group, const chat::client_link* except,
                        chat::shared_text text) {
  hand_over(line{{}, std::move(group), except, std::move(text)});
}

void fan_out::hand_over(line l) {
  // Only the first line of a turn wakes the Asio thread.
  if (handed_over_.push(std::move(l)))
    asio::post(io_, [this] { deliver(); });
}

// Pushes what actors handed over since the last turn into the sinks;
// flush_all() writes each once, after the handlers that are ready now have
// had their turn and perhaps added to it.
void fan_out::deliver() {
  handed_over_.take(turn_);
  size_t sent = 0;
  for (size_t i = 0; i < turn_.size();) {
    auto& l = turn_[i];
    if (l.group) {
      i = deliver_run(i, sent);
      continue;
    }
    if (auto to = l.to->sink()) {
      framed_.clear();
      append_text_frame(framed_, *l.text);
      sent += push(to, framed_);
    }
    ++i;
  }
  turn_.clear();
  // One atomic add per turn, not one per recipient.
  stats_.frames_out.fetch_add(sent, std::memory_order_relaxed);
}

// Delivers the run of lines to one group that starts at `first`; returns
// where the run ends. The run's lines are framed once, back to back: a
// recipient that gets every line of the run (all but the lines' senders)
// takes them in one copy, a sender the others' one by one.
size_t fan_out::deliver_run(size_t first, size_t& sent) {
  auto& group = *turn_[first].group;
  auto last = first;
  framed_.clear();
  frame_starts_.assign(1, 0);
  while (last < turn_.size() && turn_[last].group == turn_[first].group) {
    append_text_frame(framed_, *turn_[last++].text);
    frame_starts_.push_back(framed_.size());
  }
  std::string_view all = framed_;
  auto frame = [&](size_t k) {
    auto begin = frame_starts_[k - first];
    return all.substr(begin, frame_starts_[k - first + 1] - begin);
  };
  for (auto& link : group) {
    auto to = link->sink();
    bool sender = sent_one_of(link.get(), first, last);
    if (to && !sender) {
      if (push(to, all))
        sent += last - first;
      continue;
    }
    for (auto k = first; k < last; ++k) {
      if (turn_[k].except == link.get())
        continue;
      if (to)
        sent += push(to, frame(k));
      else
        link->send(turn_[k].text);
    }
  }
  return last;
}

// Whether `link` sent one of the lines from `first` to `last`.
bool fan_out::sent_one_of(const chat::client_link* link, size_t first,
                          size_t last) const {
  for (auto k = first; k < last; ++k)
    if (turn_[k].except == link)
      return true;
  return false;
}

bool fan_out::push(const std::shared_ptr<chat::link_sink>& to,
                   std::string_view frames) {
  if (!to->taking())
    return false;
  if (to->backlog() + frames.size() > max_backlog_bytes_) {
    bump(stats_.slow_consumer_drops);
    to->drop("too slow: more than " + std::to_string(max_backlog_bytes_)
             + " bytes unsent");
    return false;
  }
  if (to->append(frames)) {
    if (unflushed_.empty())
      asio::post(io_, [this] { flush_all(); });
    unflushed_.push_back(to);
  }
  return true;
}

void fan_out::flush_all() {
  for (auto& to : unflushed_)
    to->flush();
  unflushed_.clear();
}

} // namespace net
